//! `custos policy test CASES.csv [--policies FILE]`: the firm's own decision cases against the
//! policy in force or a proposed set of firm policies.

use anyhow::{Context, Result};
use custos_app::DataDir;
use custos_app::Effect;
use std::path::Path;

fn effect(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    }
}

/// Runs the cases; prints each mismatch with the decision's reasons and a summary. Fails (a
/// non-zero exit) when any case does not match.
pub(crate) async fn test(data_dir: &Path, cases: &Path, policies: Option<&Path>) -> Result<()> {
    let text = std::fs::read_to_string(cases)
        .with_context(|| format!("cannot read `{}`", cases.display()))?;
    let cases = custos_app::parse_policy_cases(&text)?;
    let proposed = policies
        .map(|p| {
            std::fs::read_to_string(p).with_context(|| format!("cannot read `{}`", p.display()))
        })
        .transpose()?;
    let app = DataDir::open(data_dir)?.open_app().await?;
    let results = app.run_policy_cases(&cases, proposed.as_deref()).await;
    app.close().await;
    let results = results?;
    let mut mismatches = 0;
    for r in &results {
        if r.matches() {
            continue;
        }
        mismatches += 1;
        println!(
            "line {}: {} {} {}: expected {}, got {} ({})",
            r.case.line,
            r.case.person,
            r.case.action,
            r.case.record,
            effect(r.case.expected),
            effect(r.got),
            r.reasons.join("; ")
        );
    }
    let against = if policies.is_some() {
        "the proposed firm policies"
    } else {
        "the policy in force"
    };
    println!(
        "{} cases against {against}: {} as expected, {mismatches} mismatched",
        results.len(),
        results.len() - mismatches
    );
    if mismatches > 0 {
        anyhow::bail!("{mismatches} of {} cases did not match", results.len());
    }
    Ok(())
}
