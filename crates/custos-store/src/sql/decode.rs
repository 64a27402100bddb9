//! Decoding rows of either backend into store rows; a malformed row is an error, never a panic.

use super::SqlRow;
use crate::rows::{
    ApiTokenRow, BreakGlassReview, BreakGlassRow, ClientRow, DocumentRow, FactorRow, MatterRow,
    PersonRow, SessionRow, ThrottleRow,
};
use crate::{StoreError, from_ms};
use custos_audit::{AuditEntry, AuditReason, AuditRecord, Outcome};
use custos_domain::{BreakGlassId, Compliance, Lifted, WallKind};
use custos_domain::{
    Classification, ClientId, DocumentId, MatterId, Person, PersonId, PersonStatus, RequestId,
    Role, Team, TeamId, UserName, Wall, WallId, WallObject, WallSubject,
};
use custos_domain::{SessionKind, SessionStage};

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

pub(crate) fn uuid_col(row: &impl SqlRow, col: &str) -> Result<uuid::Uuid, StoreError> {
    let s = row.text(col)?;
    uuid::Uuid::parse_str(&s).map_err(|_| StoreError::Corrupt(format!("column {col}: bad uuid")))
}

fn opt_uuid(row: &impl SqlRow, col: &str) -> Result<Option<uuid::Uuid>, StoreError> {
    row.opt_text(col)?
        .map(|s| uuid::Uuid::parse_str(&s).map_err(|_| corrupt(col)))
        .transpose()
}

pub(super) fn time_col(
    row: &impl SqlRow,
    col: &str,
) -> Result<custos_domain::Timestamp, StoreError> {
    from_ms(row.int(col)?)
}

pub(crate) fn person_row(row: &impl SqlRow) -> Result<PersonRow, StoreError> {
    Ok(PersonRow {
        person: Person {
            id: PersonId(uuid_col(row, "id")?),
            user_name: UserName::parse(&row.text("user_name")?)
                .map_err(|_| corrupt("user_name"))?,
            display_name: row.text("display_name")?,
            role: Role::parse(&row.text("role")?).map_err(|_| corrupt("role"))?,
            status: PersonStatus::parse(&row.text("status")?).map_err(|_| corrupt("status"))?,
            created_at: time_col(row, "created_at")?,
            compliance: Compliance {
                agreement_signed_on: opt_date(row, "agreement_signed_on")?,
                training_valid_until: opt_date(row, "training_valid_until")?,
            },
        },
        password_hash: row.text("password_hash")?,
        must_change_password: row.int("must_change_password")? != 0,
        password_changed_at: time_col(row, "password_changed_at")?,
    })
}

pub(crate) fn team(row: &impl SqlRow) -> Result<Team, StoreError> {
    Ok(Team {
        id: TeamId(uuid_col(row, "id")?),
        name: row.text("name")?,
        lead: opt_uuid(row, "lead_id")?.map(PersonId),
    })
}

pub(crate) fn client_row(row: &impl SqlRow) -> Result<ClientRow, StoreError> {
    Ok(ClientRow {
        id: ClientId(uuid_col(row, "id")?),
        number: row.int("number")?,
        responsible: PersonId(uuid_col(row, "responsible_id")?),
        wrapped_key: row.bytes("wrapped_key")?,
        sealed_name: row.bytes("sealed_name")?,
        sealed_contact: row.bytes("sealed_contact")?,
        created_at: time_col(row, "created_at")?,
    })
}

pub(crate) fn matter_row(row: &impl SqlRow) -> Result<MatterRow, StoreError> {
    Ok(MatterRow {
        id: MatterId(uuid_col(row, "id")?),
        number: row.int("number")?,
        client: ClientId(uuid_col(row, "client_id")?),
        team: TeamId(uuid_col(row, "team_id")?),
        lead: PersonId(uuid_col(row, "lead_id")?),
        wrapped_key: row.bytes("wrapped_key")?,
        sealed_title: row.bytes("sealed_title")?,
        created_at: time_col(row, "created_at")?,
    })
}

pub(crate) fn document_row(row: &impl SqlRow) -> Result<DocumentRow, StoreError> {
    let size = row.int("size")?;
    Ok(DocumentRow {
        id: DocumentId(uuid_col(row, "id")?),
        matter: MatterId(uuid_col(row, "matter_id")?),
        classification: Classification::parse(&row.text("classification")?)
            .map_err(|_| corrupt("classification"))?,
        sealed_title: row.bytes("sealed_title")?,
        sealed_provenance: row.bytes("sealed_provenance")?,
        media_type: row.text("media_type")?,
        size: u64::try_from(size).map_err(|_| corrupt("size"))?,
        created_by: PersonId(uuid_col(row, "created_by")?),
        created_at: time_col(row, "created_at")?,
    })
}

pub(crate) fn wall(row: &impl SqlRow) -> Result<Wall, StoreError> {
    let lifted = match (opt_uuid(row, "lifted_by")?, row.opt_int("lifted_at")?) {
        (Some(by), Some(at)) => Some(Lifted {
            by: PersonId(by),
            at: from_ms(at)?,
            reason: row.opt_text("lift_reason")?.unwrap_or_default(),
        }),
        (None, None) => None,
        _ => return Err(corrupt("lifted_at")),
    };
    wall_parts(
        row,
        WallKind::parse(&row.text("kind")?).map_err(|_| corrupt("kind"))?,
        [
            "subject_kind",
            "subject_id",
            "object_kind",
            "object_id",
            "reason",
            "created_by",
            "created_at",
        ],
        lifted,
    )
}

/// A wall from the columns named `cols` (subject kind and id, object kind and id, reason,
/// created by, created at), whatever the statement called them.
pub(super) fn wall_parts(
    row: &impl SqlRow,
    kind: WallKind,
    cols: [&str; 7],
    lifted: Option<Lifted>,
) -> Result<Wall, StoreError> {
    let [
        subject_kind,
        subject_id,
        object_kind,
        object_id,
        reason,
        created_by,
        created_at,
    ] = cols;
    let subject = uuid_col(row, subject_id)?;
    let object = uuid_col(row, object_id)?;
    Ok(Wall {
        id: WallId(uuid_col(row, "id")?),
        subject: match row.text(subject_kind)?.as_str() {
            "person" => WallSubject::Person(PersonId(subject)),
            "team" => WallSubject::Team(TeamId(subject)),
            _ => return Err(corrupt("subject_kind")),
        },
        object: match row.text(object_kind)?.as_str() {
            "client" => WallObject::Client(ClientId(object)),
            "matter" => WallObject::Matter(MatterId(object)),
            _ => return Err(corrupt("object_kind")),
        },
        reason: row.text(reason)?,
        created_by: PersonId(uuid_col(row, created_by)?),
        created_at: time_col(row, created_at)?,
        kind,
        lifted,
    })
}

pub(super) fn opt_date(
    row: &impl SqlRow,
    col: &str,
) -> Result<Option<custos_domain::Date>, StoreError> {
    row.opt_text(col)?
        .map(|s| custos_domain::parse_date("date", &s).map_err(|_| corrupt(col)))
        .transpose()
}

pub(crate) fn break_glass_row(row: &impl SqlRow) -> Result<BreakGlassRow, StoreError> {
    let review = match row.opt_int("reviewed_at")? {
        None => None,
        Some(at) => Some(BreakGlassReview {
            by: PersonId(opt_uuid(row, "reviewed_by")?.ok_or_else(|| corrupt("reviewed_by"))?),
            at: from_ms(at)?,
            justified: match row.opt_text("verdict")?.as_deref() {
                Some("justified") => true,
                Some("unjustified") => false,
                _ => return Err(corrupt("verdict")),
            },
            comment: row.opt_text("review_comment")?.unwrap_or_default(),
        }),
    };
    Ok(BreakGlassRow {
        id: BreakGlassId(uuid_col(row, "id")?),
        person: PersonId(uuid_col(row, "person_id")?),
        matter: MatterId(uuid_col(row, "matter_id")?),
        justification: row.text("justification")?,
        opened_at: time_col(row, "opened_at")?,
        expires_at: time_col(row, "expires_at")?,
        review,
    })
}

fn hash_col(row: &impl SqlRow, col: &str) -> Result<[u8; 32], StoreError> {
    row.bytes(col)?.try_into().map_err(|_| corrupt(col))
}

pub(crate) fn session_row(row: &impl SqlRow) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        id: uuid_col(row, "id")?,
        token_hash: hash_col(row, "token_hash")?,
        person: PersonId(uuid_col(row, "person_id")?),
        stage: match row.text("stage")?.as_str() {
            "setup" => SessionStage::Setup,
            "full" => SessionStage::Full,
            _ => return Err(corrupt("stage")),
        },
        kind: match row.text("kind")?.as_str() {
            "bearer" => SessionKind::Bearer,
            "cookie" => SessionKind::Cookie,
            _ => return Err(corrupt("kind")),
        },
        source: row.text("source")?,
        created_at: time_col(row, "created_at")?,
        last_seen_at: time_col(row, "last_seen_at")?,
        expires_at: time_col(row, "expires_at")?,
    })
}

pub(crate) fn factor_row(row: &impl SqlRow) -> Result<FactorRow, StoreError> {
    Ok(FactorRow {
        id: uuid_col(row, "id")?,
        person: PersonId(uuid_col(row, "person_id")?),
        kind: row.text("kind")?,
        sealed_secret: row.bytes("sealed_secret")?,
        active: row.int("active")? != 0,
        last_step: row.int("last_step")?,
        created_at: time_col(row, "created_at")?,
    })
}

pub(crate) fn throttle_row(row: &impl SqlRow) -> Result<ThrottleRow, StoreError> {
    Ok(ThrottleRow {
        key: row.text("key")?,
        failures: u32::try_from(row.int("failures")?).map_err(|_| corrupt("failures"))?,
        locked_until: time_col(row, "locked_until")?,
        last_failure_at: time_col(row, "last_failure_at")?,
    })
}

pub(crate) fn api_token_row(row: &impl SqlRow) -> Result<ApiTokenRow, StoreError> {
    Ok(ApiTokenRow {
        id: uuid_col(row, "id")?,
        token_hash: hash_col(row, "token_hash")?,
        person: PersonId(uuid_col(row, "person_id")?),
        name: row.text("name")?,
        scopes: row.text("scopes")?,
        created_at: time_col(row, "created_at")?,
        expires_at: time_col(row, "expires_at")?,
        revoked_at: row.opt_int("revoked_at")?.map(from_ms).transpose()?,
    })
}

pub(crate) fn recovery_row(row: &impl SqlRow) -> Result<crate::RecoveryRow, StoreError> {
    Ok(crate::RecoveryRow {
        person: PersonId(uuid_col(row, "person_id")?),
        started_by: PersonId(uuid_col(row, "started_by")?),
        sealed_half: row.bytes("sealed_half")?,
        created_at: time_col(row, "created_at")?,
        expires_at: time_col(row, "expires_at")?,
    })
}

/// An audit row; a row that cannot be decoded is reported with its sequence number, so that
/// `custos audit verify` can say which entry is damaged.
pub(crate) fn audit_entry(row: &impl SqlRow) -> Result<AuditEntry, StoreError> {
    let seq = row.int("seq")?;
    decode_audit_entry(row, seq).map_err(|e| match e {
        StoreError::Corrupt(what) => {
            StoreError::Corrupt(format!("audit entry {seq}: {what} cannot be read"))
        }
        other => other,
    })
}

fn decode_audit_entry(row: &impl SqlRow, seq: i64) -> Result<AuditEntry, StoreError> {
    let reasons: Vec<AuditReason> =
        serde_json::from_str(&row.text("reasons")?).map_err(|_| corrupt("reasons"))?;
    let detail: serde_json::Value =
        serde_json::from_str(&row.text("detail")?).map_err(|_| corrupt("detail"))?;
    let record = AuditRecord {
        at_ms: row.int("at_ms").map_err(|_| corrupt("at_ms"))?,
        request_id: RequestId(uuid_col(row, "request_id").map_err(|_| corrupt("request_id"))?),
        actor: opt_uuid(row, "actor_id")
            .map_err(|_| corrupt("actor_id"))?
            .map(PersonId),
        action: row.text("action").map_err(|_| corrupt("action"))?,
        resource: row.text("resource").map_err(|_| corrupt("resource"))?,
        outcome: Outcome::parse(&row.text("outcome")?).ok_or_else(|| corrupt("outcome"))?,
        reasons,
        detail,
    };
    Ok(AuditEntry {
        seq: u64::try_from(seq).map_err(|_| corrupt("seq"))?,
        record,
        leaf_hash: row
            .opt_bytes("leaf_hash")?
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt("leaf_hash"))?,
        chain_hash: row
            .opt_bytes("chain_hash")?
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt("chain_hash"))?,
    })
}
