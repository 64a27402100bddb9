//! The pages' two languages, English and Simplified Chinese: every string comes from a Fluent
//! catalogue (`locales/<lang>/main.ftl`, embedded at build), none from a template. The language
//! is the one the person chose with the switch (a cookie), else the browser's
//! `Accept-Language`, else English. Dates and times are shown in the firm's time zone.

use axum::http::{HeaderMap, header};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: they would show in `title` attributes
        // and CSV cells.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// Name of the cookie that remembers the language switch (a preference, not a secret).
pub(crate) const LANG_COOKIE: &str = "custos_lang";

static EN: LazyLock<LanguageIdentifier> = LazyLock::new(|| parse_id("en"));
static ZH: LazyLock<LanguageIdentifier> = LazyLock::new(|| parse_id("zh-CN"));

fn parse_id(tag: &str) -> LanguageIdentifier {
    tag.parse().unwrap_or_default()
}

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Every language, in the order the switch shows them.
    pub(crate) const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The BCP 47 tag (the page's `lang` attribute, the cookie's value).
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language's own name, for the switch.
    pub(crate) fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "中文",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }

    /// A tag as sent by a browser or the switch (`zh`, `zh-CN`, `zh-Hans-CN`, `en-GB`...).
    pub(crate) fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The language of a request: the switch's cookie, else the best of `Accept-Language`
    /// (by quality, then order), else English.
    pub(crate) fn of_request(headers: &HeaderMap) -> Lang {
        let chosen = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANG_COOKIE)
            .and_then(|(_, value)| Lang::from_tag(value));
        if let Some(lang) = chosen {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let mut best: Option<(f32, Lang)> = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_tag(tag)
                && quality > 0.0
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }
}

/// The strings of one language, as templates use them: `t.get("key")`,
/// `t.with("key", "name", value)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tr(pub(crate) Lang);

impl Tr {
    /// The message `key`.
    pub(crate) fn get(&self, key: &str) -> String {
        LOCALES.lookup(self.0.id(), key)
    }

    /// The message `key` with one argument.
    pub(crate) fn with(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        self.with_all(key, &[(name, value.to_string())])
    }

    /// The message `key` with several arguments.
    pub(crate) fn with_all(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(name, value)| {
                // A whole number is passed as a number, so that a message can choose its
                // plural form (`[one]`, `*[other]`).
                let value = match value.parse::<i64>() {
                    Ok(n) => FluentValue::from(n),
                    Err(_) => FluentValue::from(value.as_str()),
                };
                (Cow::Borrowed(*name), value)
            })
            .collect();
        LOCALES.lookup_with_args(self.0.id(), key, &args)
    }

    /// The message `key`, or `None` when the catalogue has no such message.
    pub(crate) fn try_get(&self, key: &str) -> Option<String> {
        LOCALES.try_lookup(self.0.id(), key)
    }

    /// A date and time in the firm's time zone `zone`, written the language's way, with the
    /// zone's abbreviation (`CST`, `CET`, `UTC`...).
    pub(crate) fn when(&self, zone: &jiff::tz::TimeZone, at: &time::OffsetDateTime) -> String {
        let millis = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        let local = jiff::Timestamp::from_millisecond(millis)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(zone.clone());
        let zone = local.strftime("%Z").to_string();
        match self.0 {
            Lang::En => format!(
                "{} {} {} {:02}:{:02} {zone}",
                local.day(),
                EN_MONTHS[usize::try_from(local.month() - 1).unwrap_or_default()],
                local.year(),
                local.hour(),
                local.minute()
            ),
            Lang::Zh => format!(
                "{}年{}月{}日 {:02}:{:02} {zone}",
                local.year(),
                local.month(),
                local.day(),
                local.hour(),
                local.minute()
            ),
        }
    }
}

const EN_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A civil date and time typed into a form, read in the firm's time zone `zone` (the earlier
/// of two in a repeated hour), as Unix milliseconds.
pub(crate) fn local_to_unix_ms(
    zone: &jiff::tz::TimeZone,
    civil: jiff::civil::DateTime,
) -> Option<i64> {
    civil
        .to_zoned(zone.clone())
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_owned())
            .collect()
    }

    #[test]
    fn both_catalogues_have_the_same_messages() {
        let en = keys(include_str!("../../locales/en/main.ftl"));
        let zh = keys(include_str!("../../locales/zh-CN/main.ftl"));
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_zh.is_empty(),
            "only in English: {only_en:?}; only in Chinese: {only_zh:?}"
        );
        assert!(en.len() > 100, "{} messages", en.len());
    }

    #[test]
    fn every_message_a_template_or_handler_asks_for_exists() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("sign_in.rs"),
            include_str!("matters.rs"),
            include_str!("documents.rs"),
            include_str!("audit.rs"),
            include_str!("account.rs"),
            include_str!("directory.rs"),
            include_str!("walls.rs"),
            include_str!("policies.rs"),
            include_str!("home.rs"),
            include_str!("emergency.rs"),
            include_str!("people.rs"),
            include_str!("clients.rs"),
        ];
        let mut asked = Vec::new();
        for text in sources {
            for part in text
                .split("t.get(\"")
                .skip(1)
                .chain(text.split(".with(\"").skip(1))
            {
                if let Some(key) = part.split('"').next() {
                    asked.push(key.to_owned());
                }
            }
        }
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for part in text
                .split("t.get(\"")
                .skip(1)
                .chain(text.split(".with(\"").skip(1))
            {
                if let Some(key) = part.split('"').next() {
                    asked.push(key.to_owned());
                }
            }
        }
        assert!(asked.len() > 50, "found {} lookups", asked.len());
        let known = keys(include_str!("../../locales/en/main.ftl"));
        let missing: Vec<_> = asked.iter().filter(|k| !known.contains(*k)).collect();
        assert!(
            missing.is_empty(),
            "messages missing from the catalogue: {missing:?}"
        );
    }

    #[test]
    fn every_audit_code_has_words_in_both_languages() {
        for lang in Lang::ALL {
            let t = Tr(lang);
            for code in custos_app::vocabulary::all_actions() {
                let key = format!("action-{}", code.replace(['.', '_'], "-"));
                assert!(t.try_get(&key).is_some(), "{lang:?} lacks {key}");
            }
            for code in custos_app::vocabulary::all_rules() {
                let key = format!("rulename-{}", code.replace(['.', '_'], "-"));
                assert!(t.try_get(&key).is_some(), "{lang:?} lacks {key}");
            }
        }
    }

    #[test]
    fn the_language_comes_from_the_switch_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of_request(&h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "zh-CN,zh;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::of_request(&h), Lang::Zh);
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr, en;q=0.5, zh;q=0.4".parse().unwrap(),
        );
        assert_eq!(Lang::of_request(&h), Lang::En);
        h.insert(header::COOKIE, "a=b; custos_lang=zh-CN".parse().unwrap());
        assert_eq!(Lang::of_request(&h), Lang::Zh);
    }

    #[test]
    fn times_are_shown_in_the_firms_zone_with_its_daylight_saving() {
        let zurich = jiff::tz::TimeZone::get("Europe/Zurich").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(zurich.iana_name(), Some("Europe/Zurich"));
        let winter = time::macros::datetime!(2026-01-15 12:00 UTC);
        let summer = time::macros::datetime!(2026-07-15 12:00 UTC);
        assert_eq!(Tr(Lang::En).when(&zurich, &winter), "15 Jan 2026 13:00 CET");
        assert_eq!(
            Tr(Lang::En).when(&zurich, &summer),
            "15 Jul 2026 14:00 CEST"
        );
        assert_eq!(
            Tr(Lang::Zh).when(&zurich, &summer),
            "2026年7月15日 14:00 CEST"
        );
        let typed = jiff::civil::date(2026, 7, 15).at(14, 0, 0, 0);
        assert_eq!(
            local_to_unix_ms(&zurich, typed),
            Some(summer.unix_timestamp() * 1000)
        );
    }

    #[test]
    fn counts_choose_the_plural_form() {
        assert_eq!(
            Tr(Lang::En).with("home-locked-accounts", "count", 1),
            "One locked account"
        );
        assert_eq!(
            Tr(Lang::En).with("home-locked-accounts", "count", 3),
            "3 locked accounts"
        );
        assert_eq!(
            Tr(Lang::Zh).with("home-locked-accounts", "count", 1),
            Tr(Lang::Zh)
                .with("home-locked-accounts", "count", 3)
                .replace('3', "1")
        );
        assert_eq!(
            Tr(Lang::En).with("throttled-text", "minutes", 1),
            "Too many failed attempts. Try again in one minute."
        );
    }

    #[test]
    fn messages_take_their_arguments() {
        let zh = Tr(Lang::Zh).with("signed-in-as", "name", "Lena Li");
        assert!(zh.contains("Lena Li"), "{zh}");
        let en = Tr(Lang::En).with("signed-in-as", "name", "Lena Li");
        assert!(en.contains("Lena Li") && en != zh, "{en}");
    }
}
