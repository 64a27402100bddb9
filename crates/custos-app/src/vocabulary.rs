//! The audit vocabulary: every action and rule code the app writes into the log that is not a
//! policy `Action` or `Rule` (logins, listings, sweeps...), named once here; policy ones are
//! written through `Action::as_str` and `Rule::code`, never spelled again. The test
//! `audit::every_code_in_the_log_is_catalogued` reads a whole scenario's log back and checks
//! each entry against [`is_catalogued_action`] and [`is_catalogued_rule`].

/// Audit action `auth.access_end`.
pub const ACTION_AUTH_ACCESS_END: &str = "auth.access_end";
/// Audit action `auth.lockout`.
pub const ACTION_AUTH_LOCKOUT: &str = "auth.lockout";
/// Audit action `auth.login`.
pub const ACTION_AUTH_LOGIN: &str = "auth.login";
/// Audit action `auth.logout`.
pub const ACTION_AUTH_LOGOUT: &str = "auth.logout";
/// Audit action `auth.password_change`.
pub const ACTION_AUTH_PASSWORD_CHANGE: &str = "auth.password_change";
/// Audit action `auth.password_reset`.
pub const ACTION_AUTH_PASSWORD_RESET: &str = "auth.password_reset";
/// Audit action `auth.recovery_codes`.
pub const ACTION_AUTH_RECOVERY_CODES: &str = "auth.recovery_codes";
/// Audit action `auth.recovery_complete`.
pub const ACTION_AUTH_RECOVERY_COMPLETE: &str = "auth.recovery_complete";
/// Audit action `auth.recovery_start`.
pub const ACTION_AUTH_RECOVERY_START: &str = "auth.recovery_start";
/// Audit action `auth.second_factor_reset`.
pub const ACTION_AUTH_SECOND_FACTOR_RESET: &str = "auth.second_factor_reset";
/// Audit action `auth.session_revoke`.
pub const ACTION_AUTH_SESSION_REVOKE: &str = "auth.session_revoke";
/// Audit action `auth.token_create`.
pub const ACTION_AUTH_TOKEN_CREATE: &str = "auth.token_create";
/// Audit action `auth.token_revoke`.
pub const ACTION_AUTH_TOKEN_REVOKE: &str = "auth.token_revoke";
/// Audit action `auth.totp_enroll`.
pub const ACTION_AUTH_TOTP_ENROLL: &str = "auth.totp_enroll";
/// Audit action `auth.totp_enroll_start`.
pub const ACTION_AUTH_TOTP_ENROLL_START: &str = "auth.totp_enroll_start";
/// Audit action `auth.unlock`.
pub const ACTION_AUTH_UNLOCK: &str = "auth.unlock";
/// Audit action `auth.unlock_address`.
pub const ACTION_AUTH_UNLOCK_ADDRESS: &str = "auth.unlock_address";
/// Audit action `job.run`: a periodic job changed records.
pub const ACTION_JOB_RUN: &str = "job.run";
/// Audit action `person.bootstrap`.
pub const ACTION_PERSON_BOOTSTRAP: &str = "person.bootstrap";
/// Audit action `wall.carry_over`.
pub const ACTION_WALL_CARRY_OVER: &str = "wall.carry_over";
/// Audit action `wall.lift`.
pub const ACTION_WALL_LIFT: &str = "wall.lift";
/// Audit action `person.compliance_record`: the dates recorded (R4).
pub const ACTION_COMPLIANCE_RECORD: &str = "person.compliance_record";
/// Audit action `break_glass.open`: the emergency access opened (R6).
pub const ACTION_BREAK_GLASS_OPEN: &str = "break_glass.open";
/// Audit action `break_glass.close`: the officer's review closed (R6).
pub const ACTION_BREAK_GLASS_CLOSE: &str = "break_glass.close";
/// Audit action `break_glass.end`: the officer ended an open access at once (R6).
pub const ACTION_BREAK_GLASS_END: &str = "break_glass.end";
/// Audit action `release.download_interrupted`: a counted download that did not complete,
/// given back to the link.
pub const ACTION_RELEASE_DOWNLOAD_INTERRUPTED: &str = "release.download_interrupted";
/// Audit action `break_glass.list`.
pub const ACTION_BREAK_GLASS_LIST: &str = "break_glass.list";
/// Audit action `matter.access_list`: who can access a matter, and why.
pub const ACTION_ACCESS_LIST: &str = "matter.access_list";
/// Audit action `consent.record` (R10).
pub const ACTION_CONSENT_RECORD: &str = "consent.record";
/// Audit action `consent.revoke` (R10): takes effect at once.
pub const ACTION_CONSENT_REVOKE: &str = "consent.revoke";
/// Audit action `transfer.create`: a transfer asked for (R12).
pub const ACTION_TRANSFER_CREATE: &str = "transfer.create";
/// Audit action `transfer.refuse`: an approver refused it (R12).
pub const ACTION_TRANSFER_REFUSE: &str = "transfer.refuse";
/// Audit action `transfer.void`: a change of facts voided it (R12).
pub const ACTION_TRANSFER_VOID: &str = "transfer.void";
/// Audit action `transfer.release`: both approvals given, the link issued (R12).
pub const ACTION_TRANSFER_RELEASE: &str = "transfer.release";
/// Audit action `transfer.informed`: the client told of a disclosure without consent (R13).
pub const ACTION_TRANSFER_INFORMED: &str = "transfer.informed";
/// Audit action `person.mail_address`: a person set or removed their address for notices.
pub const ACTION_MAIL_ADDRESS: &str = "person.mail_address";
/// Audit action `release.code`: a one-time code mailed to the recipient.
pub const ACTION_RELEASE_CODE: &str = "release.code";
/// Audit action `release.open`: the recipient's code checked (allowed or not).
pub const ACTION_RELEASE_OPEN: &str = "release.open";
/// Audit action `release.download`: a released document downloaded (or refused).
pub const ACTION_RELEASE_DOWNLOAD: &str = "release.download";
/// Audit action `policy.save`: a new version of the firm policies in force.
pub const ACTION_POLICY_SAVE: &str = "policy.save";
/// Audit action `policy.test`: a table of decision cases run by `custos policy test`.
pub const ACTION_POLICY_TEST: &str = "policy.test";
/// Audit action `client.list`.
pub const ACTION_CLIENT_LIST: &str = "client.list";
/// Audit action `matter.list`.
pub const ACTION_MATTER_LIST: &str = "matter.list";
/// Audit action `person.list`.
pub const ACTION_PERSON_LIST: &str = "person.list";
/// Audit action `team.list`.
pub const ACTION_TEAM_LIST: &str = "team.list";
/// Audit action `wall.list`.
pub const ACTION_WALL_LIST: &str = "wall.list";
/// Audit action `document.list`.
pub const ACTION_DOCUMENT_LIST: &str = "document.list";
/// Audit rule code `auth.password`.
pub const RULE_AUTH_PASSWORD: &str = "auth.password";
/// Audit rule code `auth.second_factor`.
pub const RULE_AUTH_SECOND_FACTOR: &str = "auth.second_factor";
/// Audit rule code `auth.throttle`.
pub const RULE_AUTH_THROTTLE: &str = "auth.throttle";
/// Audit rule code `bootstrap`.
pub const RULE_BOOTSTRAP: &str = "bootstrap";
/// Audit rule code `operator`: done by whoever runs the command line on the data directory.
pub const RULE_OPERATOR: &str = "operator";
/// Audit rule code `system.job`: periodic work the firm configured.
pub const RULE_SYSTEM_JOB: &str = "system.job";
/// Audit rule code `upload.incomplete`.
pub const RULE_UPLOAD_INCOMPLETE: &str = "upload.incomplete";

/// Actions written by events that are not a single policy decision.
pub const EVENT_ACTIONS: &[&str] = &[
    ACTION_CONSENT_RECORD,
    ACTION_CONSENT_REVOKE,
    ACTION_TRANSFER_CREATE,
    ACTION_TRANSFER_REFUSE,
    ACTION_TRANSFER_VOID,
    ACTION_TRANSFER_RELEASE,
    ACTION_TRANSFER_INFORMED,
    ACTION_MAIL_ADDRESS,
    ACTION_RELEASE_CODE,
    ACTION_RELEASE_OPEN,
    ACTION_RELEASE_DOWNLOAD,
    ACTION_AUTH_ACCESS_END,
    ACTION_AUTH_LOCKOUT,
    ACTION_AUTH_LOGIN,
    ACTION_AUTH_LOGOUT,
    ACTION_AUTH_PASSWORD_CHANGE,
    ACTION_AUTH_PASSWORD_RESET,
    ACTION_AUTH_RECOVERY_CODES,
    ACTION_AUTH_RECOVERY_COMPLETE,
    ACTION_AUTH_RECOVERY_START,
    ACTION_AUTH_SECOND_FACTOR_RESET,
    ACTION_AUTH_SESSION_REVOKE,
    ACTION_AUTH_TOKEN_CREATE,
    ACTION_AUTH_TOKEN_REVOKE,
    ACTION_AUTH_TOTP_ENROLL,
    ACTION_AUTH_TOTP_ENROLL_START,
    ACTION_AUTH_UNLOCK,
    ACTION_AUTH_UNLOCK_ADDRESS,
    ACTION_JOB_RUN,
    ACTION_PERSON_BOOTSTRAP,
    ACTION_WALL_CARRY_OVER,
    ACTION_WALL_LIFT,
    ACTION_COMPLIANCE_RECORD,
    ACTION_BREAK_GLASS_OPEN,
    ACTION_BREAK_GLASS_CLOSE,
    ACTION_BREAK_GLASS_END,
    ACTION_RELEASE_DOWNLOAD_INTERRUPTED,
    ACTION_BREAK_GLASS_LIST,
    ACTION_ACCESS_LIST,
    ACTION_POLICY_SAVE,
    ACTION_POLICY_TEST,
    ACTION_CLIENT_LIST,
    ACTION_MATTER_LIST,
    ACTION_PERSON_LIST,
    ACTION_TEAM_LIST,
    ACTION_WALL_LIST,
    ACTION_DOCUMENT_LIST,
];

/// Rule codes written by events that are not a single policy decision.
pub const EVENT_RULES: &[&str] = &[
    RULE_AUTH_PASSWORD,
    RULE_AUTH_SECOND_FACTOR,
    RULE_AUTH_THROTTLE,
    RULE_BOOTSTRAP,
    RULE_OPERATOR,
    RULE_SYSTEM_JOB,
    RULE_UPLOAD_INCOMPLETE,
];

/// Whether `action` is a policy action or a catalogued event action.
pub fn is_catalogued_action(action: &str) -> bool {
    custos_policy::Action::ALL
        .iter()
        .any(|a| a.as_str() == action)
        || EVENT_ACTIONS.contains(&action)
}

/// Whether `rule` is a policy rule code or a catalogued event rule code.
pub fn is_catalogued_rule(rule: &str) -> bool {
    custos_policy::Rule::ALL.iter().any(|r| r.code() == rule) || EVENT_RULES.contains(&rule)
}

/// Every action code an audit entry can carry: the policy's actions, then the events'.
pub fn all_actions() -> Vec<&'static str> {
    custos_policy::Action::ALL
        .iter()
        .map(|a| a.as_str())
        .chain(EVENT_ACTIONS.iter().copied())
        .collect()
}

/// Every rule code an audit entry can carry: the policy's rules, then the events'.
pub fn all_rules() -> Vec<&'static str> {
    custos_policy::Rule::ALL
        .iter()
        .map(|r| r.code())
        .chain(EVENT_RULES.iter().copied())
        .collect()
}
