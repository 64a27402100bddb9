//! R2 role caps and R4 status, in one place: what a role may ever read, who counts as firm
//! staff, and whether a person may act at all. `decide` applies them; login, the per-request
//! credential check and staffing call the same functions, so they cannot disagree with it.

use custos_domain::{Classification, PersonStatus, Role};

/// The highest classification whose content `role` may ever read (R2); `None`: no client
/// content at all (admin/IT, external parties).
pub fn content_cap(role: Role) -> Option<Classification> {
    match role {
        Role::Partner | Role::Officer | Role::TeamLead | Role::Lawyer => {
            Some(Classification::Restricted)
        }
        Role::Paralegal | Role::Secretary => Some(Classification::Privileged),
        Role::Intern => Some(Classification::Confidential),
        Role::Admin | Role::External => None,
    }
}

/// Whether `role` belongs to firm staff (everyone but external parties).
pub fn is_staff(role: Role) -> bool {
    role != Role::External
}

/// Whether a person with `status` may act at all (R4): only an active person may log in, use
/// a session or token, be staffed, or be allowed anything.
pub fn may_act(status: PersonStatus) -> bool {
    status == PersonStatus::Active
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_order_the_roles() {
        assert!(content_cap(Role::Intern) < Some(Classification::Privileged));
        assert!(content_cap(Role::Secretary) < content_cap(Role::Lawyer));
        assert_eq!(content_cap(Role::Admin), None);
        assert!(!is_staff(Role::External));
        assert!(may_act(PersonStatus::Active));
        assert!(!may_act(PersonStatus::Suspended) && !may_act(PersonStatus::Departed));
    }
}
