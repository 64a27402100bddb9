//! Each refusal of a release (R12), decided at the policy: the link's own limits, the
//! transfer's checks at every download (a revoked consent, a requester who may no longer
//! read), the recipient's own account, and who revokes a link.

use super::*;

fn link(w: &World) -> LinkFacts {
    LinkFacts {
        released: true,
        expires_at: w.ctx.now + time::Duration::days(7),
        revoked: false,
        downloads: 0,
        download_limit: 3,
        code_verified: true,
        fingerprint_matches: true,
    }
}

#[test]
fn a_release_opens_only_while_everything_holds() {
    let w = world();
    let doc = w.facts.documents[0];
    let ok = decide_release(&w.lawyer, &w.facts, &link(&w), &doc, &w.ctx);
    assert!(ok.is_allowed());
    let permit = ok.permit().unwrap_or_else(|| panic!("permit"));
    assert_eq!(permit.principal(), Holder::Recipient(w.facts.recipient.id));
    assert!(permit.unlocks(crate::KeyScope::Matter(w.facts.matter.id)));
    assert!(!permit.unlocks(crate::KeyScope::Matter(MatterId::new())));
    let cases: Vec<(&str, LinkChange)> = vec![
        ("not approved", |l, _| l.released = false),
        ("revoked", |l, _| l.revoked = true),
        ("expired", |l, w| l.expires_at = w.ctx.now),
        ("not proved", |l, _| l.code_verified = false),
        ("download limit", |l, _| l.downloads = 3),
        ("approval is void", |l, _| l.fingerprint_matches = false),
    ];
    for (words, change) in cases {
        let mut l = link(&w);
        change(&mut l, &w);
        let d = decide_release(&w.lawyer, &w.facts, &l, &doc, &w.ctx);
        assert!(!d.is_allowed() && d.permit().is_none(), "{words}");
        assert!(
            d.reasons()[0].message.contains(words),
            "{words}: {:?}",
            d.reasons()
        );
    }
    // A document outside the transfer.
    let other = DocumentFacts {
        id: DocumentId::new(),
        ..doc
    };
    assert!(!decide_release(&w.lawyer, &w.facts, &link(&w), &other, &w.ctx).is_allowed());
    // Consent revoked after the release: the next download is refused.
    let mut revoked = world();
    consent(&mut revoked).revoked = true;
    let d = decide_release(
        &revoked.lawyer,
        &revoked.facts,
        &link(&revoked),
        &revoked.facts.documents[0],
        &revoked.ctx,
    );
    assert_eq!(d.reasons()[0].rule, Rule::Consent);
}

/// A released transfer stands only while its requester could still ask for it: one who left
/// the firm, was suspended or was taken off the matter stops it at the next download (another
/// person on the matter asks again, with new approvals).
#[test]
fn a_release_stops_when_its_requester_may_no_longer_read() {
    let w = world();
    let doc = w.facts.documents[0];
    assert!(decide_release(&w.lawyer, &w.facts, &link(&w), &doc, &w.ctx).is_allowed());
    for status in [PersonStatus::Departed, PersonStatus::Suspended] {
        let mut gone = w.lawyer.clone();
        gone.status = status;
        let d = decide_release(&gone, &w.facts, &link(&w), &doc, &w.ctx);
        assert!(!d.is_allowed() && d.permit().is_none(), "{status:?}");
        assert_eq!(d.reasons()[0].rule, Rule::Status, "{:?}", d.reasons());
        assert!(
            d.reasons()[0]
                .message
                .starts_with("no longer allowed: the requester may not read"),
            "{:?}",
            d.reasons()
        );
    }
    let mut unstaffed = w.lawyer.clone();
    unstaffed.staffed_matters.clear();
    let d = decide_release(&unstaffed, &w.facts, &link(&w), &doc, &w.ctx);
    assert!(!d.is_allowed() && d.permit().is_none());
    assert_eq!(
        d.reasons()[0].rule,
        Rule::DenyByDefault,
        "{:?}",
        d.reasons()
    );
    assert!(
        d.reasons()[0].message.contains("not staffed"),
        "{:?}",
        d.reasons()
    );
}

#[test]
fn revoking_a_link_is_the_requesters_or_the_officers() {
    let w = world();
    assert!(may_revoke_release(&w.lawyer, w.lawyer.id).is_ok());
    assert!(may_revoke_release(&w.officer, w.lawyer.id).is_ok());
    assert!(may_revoke_release(&w.lead, w.lawyer.id).is_err());
}

#[test]
fn only_the_recipients_own_active_account_receives_and_only_while_the_release_holds() {
    let mut w = world();
    let account = person(Role::External);
    w.facts.recipient.person = Some(account.id);
    let doc = w.facts.documents[0];
    // The login stands in for the code, whatever the link's session says.
    let mut unproved = link(&w);
    unproved.code_verified = false;
    let ok = decide_release_to_account(&account, &w.lawyer, &w.facts, &unproved, &doc, &w.ctx);
    assert!(ok.is_allowed(), "{:?}", ok.reasons());
    assert_eq!(
        ok.permit().map(crate::Permit::principal),
        Some(Holder::Recipient(w.facts.recipient.id))
    );
    // Another outside party's account, a staff member, a suspended recipient.
    let stranger = person(Role::External);
    let r = decide_release_to_account(&stranger, &w.lawyer, &w.facts, &unproved, &doc, &w.ctx);
    assert_eq!(r.reasons()[0].rule, Rule::Release);
    assert!(r.conceals_existence());
    let mut staff = person(Role::Partner);
    staff.id = account.id;
    let r = decide_release_to_account(&staff, &w.lawyer, &w.facts, &unproved, &doc, &w.ctx);
    assert_eq!(r.reasons()[0].rule, Rule::RoleCap);
    let mut suspended = account.clone();
    suspended.status = PersonStatus::Suspended;
    let r = decide_release_to_account(&suspended, &w.lawyer, &w.facts, &unproved, &doc, &w.ctx);
    assert_eq!(r.reasons()[0].rule, Rule::Status);
    // Every condition of the link still applies.
    let cases: Vec<(&str, LinkChange)> = vec![
        ("not approved", |l, _| l.released = false),
        ("revoked", |l, _| l.revoked = true),
        ("expired", |l, w| l.expires_at = w.ctx.now),
        ("download limit", |l, _| l.downloads = 3),
        ("approval is void", |l, _| l.fingerprint_matches = false),
    ];
    for (words, change) in cases {
        let mut l = link(&w);
        change(&mut l, &w);
        let r = decide_release_to_account(&account, &w.lawyer, &w.facts, &l, &doc, &w.ctx);
        assert!(!r.is_allowed(), "{words}");
        assert!(r.reasons()[0].message.contains(words), "{words}");
    }
    // Consent revoked, agreement expired: refused with the rule that failed.
    let mut revoked = w.facts.clone();
    if let Basis::Consent(c) = &mut revoked.basis {
        c.revoked = true;
    }
    let r = decide_release_to_account(&account, &w.lawyer, &revoked, &link(&w), &doc, &w.ctx);
    assert_eq!(r.reasons()[0].rule, Rule::Consent);
    let mut lapsed = w.facts.clone();
    lapsed.recipient.agreement_expires_on = Some(d(2026, 1, 2));
    let r = decide_release_to_account(&account, &w.lawyer, &lapsed, &link(&w), &doc, &w.ctx);
    assert_eq!(r.reasons()[0].rule, Rule::RecipientAgreement);
}
