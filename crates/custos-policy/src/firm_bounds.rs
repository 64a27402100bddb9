//! Bounds on a firm policy text, checked before Cedar sees it (issue 33: parentheses nested
//! about 150 deep in a 300-byte policy overflowed a runtime worker's stack and aborted the
//! server). Cedar's parser, validator and evaluator recurse over the expression tree, whose
//! depth is at most the bracket nesting plus the number of operators of one policy: both are
//! bounded here, far above what a readable policy needs and far below what overflows a stack.
//! Parsing then runs on a thread with a large stack of its own (see `FirmPolicies::parse`).

use crate::firm::FirmPolicyError;

/// The longest policy set accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;
/// The deepest nesting of `(`, `[` and `{` accepted.
pub const MAX_NESTING: usize = 24;
/// The most operators (`&&`, `||`, `!`, `==`, `.`, `+`, `if`, `in`, `has`...) one policy may
/// hold: a chain of them is a tree as deep as it is long.
pub const MAX_OPERATORS: usize = 200;

/// Checks `text` against the bounds; the error says which one and where, in words.
pub(crate) fn check(text: &str) -> Result<(), FirmPolicyError> {
    let refuse = |what: String| Err(FirmPolicyError(what));
    if text.len() > MAX_POLICY_BYTES {
        return refuse(format!(
            "the policies are {} bytes; at most {MAX_POLICY_BYTES} are accepted",
            text.len()
        ));
    }
    if text.contains('\0') {
        return refuse("the policies contain a NUL character".to_owned());
    }
    let mut depth = 0usize;
    let mut operators = 0usize;
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    let mut word = String::new();
    let end_word = |word: &mut String, operators: &mut usize| {
        if matches!(word.as_str(), "if" | "in" | "has" | "like" | "is") {
            *operators += 2;
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        end_word(&mut word, &mut operators);
        match c {
            '\n' => line += 1,
            '"' => {
                // A string literal: skip to its closing quote (escapes included).
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return refuse(format!(
                        "brackets are nested more than {MAX_NESTING} deep on line {line}"
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => operators = 0,
            // Two-character operators count twice: the bound is on characters, 2 each.
            '!' | '-' | '+' | '*' | '<' | '>' | '=' | '&' | '|' | '.' => operators += 1,
            _ => {}
        }
        if operators > MAX_OPERATORS * 2 {
            return refuse(format!(
                "the policy on line {line} has more than {MAX_OPERATORS} operators; split it \
                 into several policies"
            ));
        }
    }
    end_word(&mut word, &mut operators);
    if operators > MAX_OPERATORS * 2 {
        return refuse(format!(
            "the last policy has more than {MAX_OPERATORS} operators; split it into several \
             policies"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FirmPolicies;
    use proptest::prelude::*;

    #[test]
    fn deep_nesting_and_long_chains_are_refused_in_words() {
        // The review's attack: about 150 parentheses in a 300-byte policy.
        let deep = format!(
            "forbid(principal, action, resource) when {{ {}true{} }};",
            "(".repeat(150),
            ")".repeat(150)
        );
        let e = FirmPolicies::parse(1, &deep)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("nested more than"), "{e}");
        let negations = format!(
            "forbid(principal, action, resource) when {{ {}true }};",
            "!".repeat(5000)
        );
        let e = FirmPolicies::parse(1, &negations)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("operators"), "{e}");
        let chain = format!(
            "forbid(principal, action, resource) when {{ true{} }};",
            " && true".repeat(2000)
        );
        let e = FirmPolicies::parse(1, &chain)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("operators"), "{e}");
        let ifs = format!(
            "forbid(principal, action, resource) when {{ {} true }};",
            "if true then true else".repeat(800)
        );
        assert!(FirmPolicies::parse(1, &ifs).is_err());
        assert!(FirmPolicies::parse(1, "forbid(principal, action, resource);\0").is_err());
        let big = format!("// {}\n", "x".repeat(MAX_POLICY_BYTES));
        let e = FirmPolicies::parse(1, &big)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("bytes"), "{e}");
    }

    #[test]
    fn readable_policies_stay_within_the_bounds() {
        let text = r#"
            // Interns never see restricted records; nothing restricted after 22:00.
            @id("interns")
            forbid(principal, action, resource)
            when { principal.role == "intern" && resource.classification == "restricted" };
            @id("night")
            forbid(principal, action, resource)
            when { resource.classification == "restricted" && (context.hour >= 22 || context.hour < 6) };
        "#;
        assert_eq!(check(text), Ok(()));
        // Brackets and operators inside strings and comments do not count.
        let quoted = format!(
            "// {}\nforbid(principal, action, resource) when {{ principal.role == \"{}\" }};",
            "(((((".repeat(20),
            "!!((".repeat(300)
        );
        assert_eq!(check(&quoted), Ok(()));
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("!".to_owned()),
            Just("-".to_owned()),
            Just(" && ".to_owned()),
            Just(" || ".to_owned()),
            Just(" == ".to_owned()),
            Just(".".to_owned()),
            Just(" if ".to_owned()),
            Just(" then ".to_owned()),
            Just(" else ".to_owned()),
            Just(" has ".to_owned()),
            Just(" in ".to_owned()),
            Just("true".to_owned()),
            Just("1".to_owned()),
            Just("\"s\"".to_owned()),
            Just("principal.role".to_owned()),
            Just(";".to_owned()),
            Just("forbid(principal, action, resource) when { ".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Fuzzing the parser through the bounds: whatever the text (deep, long, broken), the
        /// check answers Ok or a refusal; the process never dies.
        #[test]
        fn any_policy_text_is_answered_never_crashes(
            parts in proptest::collection::vec(fragment(), 0..400),
            repeat in 1usize..40,
        ) {
            let text = parts.concat().repeat(repeat);
            let _ = FirmPolicies::parse(1, &text);
        }
    }
}
