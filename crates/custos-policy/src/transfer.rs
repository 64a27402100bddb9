//! Whether one transfer outside the firm may go ahead (R10-R13), who may approve it (R12, two
//! people), and whether its release link may hand one document to its recipient.
//!
//! The checks run before any approval, again at each approval and at every download: a change
//! in between (consent revoked or expired, agreement expired, document reclassified, wall
//! raised) fails them, and [`TransferFacts::fingerprint`] tells an approval given on other facts.

use crate::decision::{Reason, Rule};
use crate::{Action, Context, DocumentFacts, MatterFacts, Principal, Resource};
use custos_domain::{
    ClientId, ConsentId, Date, LegalBasis, MatterId, PersonId, PersonStatus, RecipientCategory,
    Role, ThirdPartyId, Wall, iso,
};
use serde::Serialize;

/// A client's consent as the checks need it (R10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentFacts {
    /// The consent.
    pub id: ConsentId,
    /// Whose consent.
    pub client: ClientId,
    /// The purposes it allows.
    pub purposes: Vec<String>,
    /// The recipient it names, if it names one.
    pub recipient: Option<ThirdPartyId>,
    /// The category of recipients it allows, when it names no recipient.
    pub category: Option<RecipientCategory>,
    /// The matters it covers; empty: every matter of the client.
    pub matters: Vec<MatterId>,
    /// The day it was given.
    pub given_on: Date,
    /// Its last valid day, if it expires.
    pub expires_on: Option<Date>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// An outside recipient as the checks need it (R11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientFacts {
    /// The recipient.
    pub id: ThirdPartyId,
    /// What kind of party.
    pub category: RecipientCategory,
    /// Whether their contact address was verified.
    pub address_verified: bool,
    /// The day they signed their confidentiality agreement; `None`: not on file.
    pub agreement_signed_on: Option<Date>,
    /// The agreement's last valid day.
    pub agreement_expires_on: Option<Date>,
    /// Their account, when they have one (walls can name them).
    pub person: Option<PersonId>,
    /// Walls that may screen them (those naming their account).
    pub walls: Vec<Wall>,
}

/// What a transfer rests on: a consent, or a legal exception (R13), or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The client's consent.
    Consent(ConsentFacts),
    /// A recorded legal basis for disclosure without consent.
    Exception(LegalBasis),
    /// Nothing was named.
    None,
}

/// Everything the checks of one transfer depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferFacts {
    /// The matter the documents come from.
    pub matter: MatterFacts,
    /// Who receives them.
    pub recipient: RecipientFacts,
    /// Why (a purpose label).
    pub purpose: String,
    /// The consent or legal basis.
    pub basis: Basis,
    /// The documents.
    pub documents: Vec<DocumentFacts>,
}

impl TransferFacts {
    /// A canonical text of every fact an approval rests on (consent and its state, agreement,
    /// documents with their classification, active walls on the transfer's matter or client). Two approvals given
    /// on different fingerprints were given on different facts: the first is void.
    pub fn fingerprint(&self, requester_walls: &[Wall]) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let opt = |d: Option<Date>| d.map(iso).unwrap_or_default();
        let _ = write!(
            out,
            "matter={};recipient={};purpose={};",
            self.matter.id, self.recipient.id, self.purpose
        );
        match &self.basis {
            Basis::Consent(c) => {
                let _ = write!(
                    out,
                    "consent={};expires={};revoked={};",
                    c.id,
                    opt(c.expires_on),
                    c.revoked
                );
            }
            Basis::Exception(b) => {
                let _ = write!(out, "exception={};", b.as_str());
            }
            Basis::None => out.push_str("basis=none;"),
        }
        let _ = write!(
            out,
            "agreement={}..{};verified={};",
            opt(self.recipient.agreement_signed_on),
            opt(self.recipient.agreement_expires_on),
            self.recipient.address_verified
        );
        let mut docs: Vec<_> = self
            .documents
            .iter()
            .map(|d| (d.id, d.classification.as_str()))
            .collect();
        docs.sort();
        for (id, class) in docs {
            let _ = write!(out, "doc={id}:{class};");
        }
        // Only walls on this transfer's matter or client bear on it: a wall raised anywhere
        // else in the firm (the context holds every inclusionary wall) changes nothing here.
        let bears = |w: &&Wall| match w.object {
            custos_domain::WallObject::Matter(m) => m == self.matter.id,
            custos_domain::WallObject::Client(c) => c == self.matter.client,
        };
        let mut walls: Vec<_> = self
            .recipient
            .walls
            .iter()
            .chain(requester_walls)
            .filter(|w| w.is_active())
            .filter(bears)
            .map(|w| w.id)
            .collect();
        walls.sort();
        walls.dedup();
        for w in walls {
            let _ = write!(out, "wall={w};");
        }
        out
    }
}

/// One check of a transfer, passed or not, with the rule and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The rule checked.
    pub rule: Rule,
    /// Whether it holds.
    pub passed: bool,
    /// What was found (ids, never client content).
    pub message: String,
}

/// The outcome of [`check_transfer`]: every check, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferCheck {
    /// The checks.
    pub checks: Vec<Check>,
}

impl TransferCheck {
    /// Whether every check holds.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The first failed check.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.passed)
    }
}

fn check(rule: Rule, passed: bool, message: impl Into<String>) -> Check {
    Check {
        rule,
        passed,
        message: message.into(),
    }
}

/// Runs every check of a transfer asked by `requester` (whose walls and firm policies are in
/// `ctx`): the consent covers this client, recipient, purpose and matter and is in force (or a
/// legal basis is recorded); the recipient's address is verified and their agreement in
/// force; the requester may read every document (R1-R4, walls, firm policies); no wall
/// screens the recipient. Pure: the same facts give the same answer.
pub fn check_transfer(requester: &Principal, t: &TransferFacts, ctx: &Context) -> TransferCheck {
    let today = ctx.today;
    let r = &t.recipient;
    let mut checks = Vec::with_capacity(5);
    checks.push(match &t.basis {
        Basis::Consent(c) => consent_check(c, t, today),
        Basis::Exception(b) => check(
            Rule::LegalException,
            true,
            format!(
                "no consent: disclosure on the legal basis `{}`, recorded with the request \
                 (the confidentiality officer approves)",
                b.as_str()
            ),
        ),
        Basis::None => check(
            Rule::Consent,
            false,
            "no consent of the client was named, and no legal basis recorded",
        ),
    });
    let authority_on_legal_basis =
        matches!(t.basis, Basis::Exception(_)) && r.category == RecipientCategory::Authority;
    checks.push(if !r.address_verified {
        check(
            Rule::RecipientAgreement,
            false,
            format!("the address of recipient {} is not verified", r.id),
        )
    } else if authority_on_legal_basis {
        check(
            Rule::RecipientAgreement,
            true,
            "an authority receiving on a legal basis signs no confidentiality agreement",
        )
    } else {
        match (r.agreement_signed_on, r.agreement_expires_on) {
            (None, _) => check(
                Rule::RecipientAgreement,
                false,
                format!("no confidentiality agreement of recipient {} on file", r.id),
            ),
            (Some(signed), _) if signed > today => check(
                Rule::RecipientAgreement,
                false,
                format!(
                    "recipient {}'s agreement is dated {}, in the future",
                    r.id,
                    iso(signed)
                ),
            ),
            (Some(_), Some(until)) if until < today => check(
                Rule::RecipientAgreement,
                false,
                format!("recipient {}'s agreement expired on {}", r.id, iso(until)),
            ),
            (Some(signed), until) => check(
                Rule::RecipientAgreement,
                true,
                format!(
                    "recipient {}'s agreement signed on {}{}",
                    r.id,
                    iso(signed),
                    until
                        .map(|u| format!(", valid until {}", iso(u)))
                        .unwrap_or_default()
                ),
            ),
        }
    });
    checks.push(access_check(requester, t, ctx));
    checks.push(recipient_wall_check(t, ctx));
    TransferCheck { checks }
}

fn consent_check(c: &ConsentFacts, t: &TransferFacts, today: Date) -> Check {
    let r = &t.recipient;
    let fail = |why: String| check(Rule::Consent, false, format!("consent {}: {why}", c.id));
    if c.client != t.matter.client {
        return fail("it is another client's consent".to_owned());
    }
    if c.revoked {
        return fail("it was revoked".to_owned());
    }
    if c.given_on > today {
        return fail(format!("it is given only from {}", iso(c.given_on)));
    }
    if let Some(until) = c.expires_on
        && until < today
    {
        return fail(format!("it expired on {}", iso(until)));
    }
    if !c.purposes.contains(&t.purpose) {
        return fail(format!(
            "it does not cover the purpose `{}` (it covers: {})",
            t.purpose,
            c.purposes.join(", ")
        ));
    }
    let recipient_ok = match (c.recipient, c.category) {
        (Some(named), _) => named == r.id,
        (None, Some(category)) => category == r.category,
        (None, None) => false,
    };
    if !recipient_ok {
        return fail(match c.recipient {
            Some(named) => format!("it names recipient {named}, not {}", r.id),
            None => format!(
                "it covers recipients of the category `{}`, and {} is `{}`",
                c.category.map(RecipientCategory::as_str).unwrap_or("none"),
                r.id,
                r.category.as_str()
            ),
        });
    }
    if !c.matters.is_empty() && !c.matters.contains(&t.matter.id) {
        return fail(format!("it does not cover matter {}", t.matter.id));
    }
    check(
        Rule::Consent,
        true,
        format!(
            "consent {} covers this client, recipient and purpose{}",
            c.id,
            c.expires_on
                .map(|u| format!(" until {}", iso(u)))
                .unwrap_or_default()
        ),
    )
}

/// The requester's own access to every document: one decision each, the first refusal named.
fn access_check(requester: &Principal, t: &TransferFacts, ctx: &Context) -> Check {
    if t.documents.is_empty() {
        return check(Rule::DenyByDefault, false, "no documents were named");
    }
    for d in &t.documents {
        if d.matter.id != t.matter.id {
            return check(
                Rule::DenyByDefault,
                false,
                format!("document {} is not on matter {}", d.id, t.matter.id),
            );
        }
        let decision = crate::decide(
            requester,
            Action::ReadDocumentContent,
            &Resource::Document(*d),
            ctx,
        );
        if !decision.is_allowed() {
            let why = decision.reasons().first().cloned().unwrap_or(Reason {
                rule: Rule::DenyByDefault,
                message: String::new(),
            });
            return check(
                why.rule,
                false,
                format!(
                    "the requester may not read document {}: {}",
                    d.id, why.message
                ),
            );
        }
    }
    check(
        Rule::NeedToKnow,
        true,
        format!("the requester may read all {} documents", t.documents.len()),
    )
}

/// R3 for the recipient: no wall may screen their account from the matter.
fn recipient_wall_check(t: &TransferFacts, ctx: &Context) -> Check {
    let r = &t.recipient;
    let Some(person) = r.person else {
        return check(
            Rule::Wall,
            true,
            format!("recipient {} has no account, so no wall names them", r.id),
        );
    };
    let as_principal = Principal {
        id: person,
        role: Role::External,
        status: PersonStatus::Active,
        teams: vec![],
        led_teams: vec![],
        staffed_matters: vec![],
        compliance: custos_domain::Compliance::default(),
        emergency: vec![],
        emergencies_last_day: 0,
    };
    let walls = Context {
        walls: r.walls.clone(),
        ..ctx.clone()
    };
    match crate::screening_wall(&as_principal, &Resource::Matter(t.matter), &walls) {
        Some(wall) => check(
            Rule::Wall,
            false,
            format!("the recipient is screened: {}", wall.message),
        ),
        None => check(Rule::Wall, true, "no wall screens the recipient"),
    }
}

pub use crate::release::{
    ApprovalFacts, LinkFacts, Slot, approval_slot, decide_release, decide_release_to_account,
    may_revoke_release,
};

#[cfg(test)]
#[path = "transfer_tests.rs"]
mod tests;
