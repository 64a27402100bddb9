//! A decision's facts about the person asking, in one statement: their row, teams, led teams,
//! staffing, the walls that may screen them, their open break-glass accesses (and how many
//! they opened in the last 24 hours) and the firm policy version in force, as one `UNION ALL` of narrow rows tagged by `fact` (one round trip
//! on PostgreSQL, one call into SQLite, whatever the number of teams or walls).

use super::SqlRow;
use super::decode::{corrupt, opt_date, time_col, uuid_col, wall_parts};
use crate::StoreError;
use crate::rows::{OpenBreakGlass, PrincipalRow};
use custos_domain::{BreakGlassId, Compliance, MatterId, PersonStatus, Role, TeamId, WallKind};

/// `$1` the person, `$2` now (ms). Columns: `fact`, `id`, text `a`..`g`, integer `n`. Every
/// branch casts its NULLs so that PostgreSQL types the union the same whatever the order;
/// rows come in no particular order (the decoder sorts by id).
pub(crate) const PRINCIPAL_FACTS: &str = "
SELECT 'person' AS fact, id, role AS a, status AS b, agreement_signed_on AS c,
       training_valid_until AS d, CAST(NULL AS TEXT) AS e, CAST(NULL AS TEXT) AS f,
       CAST(NULL AS TEXT) AS g, CAST(NULL AS BIGINT) AS n
  FROM people WHERE id = $1
UNION ALL
SELECT 'team', team_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM team_members WHERE person_id = $1
UNION ALL
SELECT 'led', id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM teams WHERE lead_id = $1
UNION ALL
SELECT 'staffed', matter_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM matter_members WHERE person_id = $1
UNION ALL
SELECT 'wall', id, kind, subject_kind, subject_id, object_kind, object_id, reason, created_by,
       created_at
  FROM walls
 WHERE lifted_at IS NULL
   AND (kind = 'inclusionary'
    OR (subject_kind = 'person' AND subject_id = $1)
    OR (subject_kind = 'team'
        AND subject_id IN (SELECT team_id FROM team_members WHERE person_id = $1)))
UNION ALL
SELECT 'break_glass', id, matter_id, NULL, NULL, NULL, NULL, NULL, NULL, expires_at
  FROM break_glass WHERE person_id = $1 AND expires_at > $2
UNION ALL
SELECT 'break_glass_day', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, COUNT(*)
  FROM break_glass WHERE person_id = $1 AND opened_at > $2 - CAST(86400000 AS BIGINT)
UNION ALL
SELECT 'policy', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       CAST(COALESCE(MAX(version), 0) AS BIGINT)
  FROM firm_policies";

/// The rows of [`PRINCIPAL_FACTS`] as the person's facts; `None` when there is no such person.
pub(crate) fn principal_facts(rows: &[impl SqlRow]) -> Result<Option<PrincipalRow>, StoreError> {
    let mut person = None;
    let mut out = PrincipalRow {
        role: Role::External,
        status: PersonStatus::Departed,
        compliance: Compliance::default(),
        teams: vec![],
        led_teams: vec![],
        staffed_matters: vec![],
        walls: vec![],
        emergency: vec![],
        emergencies_last_day: 0,
        firm_policy_version: 0,
    };
    for row in rows {
        match row.text("fact")?.as_str() {
            "person" => {
                person = Some((
                    Role::parse(&row.text("a")?).map_err(|_| corrupt("role"))?,
                    PersonStatus::parse(&row.text("b")?).map_err(|_| corrupt("status"))?,
                    Compliance {
                        agreement_signed_on: opt_date(row, "c")?,
                        training_valid_until: opt_date(row, "d")?,
                    },
                ));
            }
            "team" => out.teams.push(TeamId(uuid_col(row, "id")?)),
            "led" => out.led_teams.push(TeamId(uuid_col(row, "id")?)),
            "staffed" => out.staffed_matters.push(MatterId(uuid_col(row, "id")?)),
            "wall" => out.walls.push(wall_parts(
                row,
                WallKind::parse(&row.text("a")?).map_err(|_| corrupt("kind"))?,
                ["b", "c", "d", "e", "f", "g", "n"],
                None,
            )?),
            "break_glass" => out.emergency.push(OpenBreakGlass {
                id: BreakGlassId(uuid_col(row, "id")?),
                matter: MatterId(uuid_col(row, "a")?),
                expires_at: time_col(row, "n")?,
            }),
            "break_glass_day" => {
                out.emergencies_last_day =
                    u32::try_from(row.int("n")?).map_err(|_| corrupt("count"))?;
            }
            "policy" => out.firm_policy_version = row.int("n")?,
            _ => return Err(corrupt("fact")),
        }
    }
    let Some((role, status, compliance)) = person else {
        return Ok(None);
    };
    out.teams.sort_by_key(|t| t.0);
    out.led_teams.sort_by_key(|t| t.0);
    out.staffed_matters.sort_by_key(|m| m.0);
    out.walls.sort_by_key(|w| w.id.0);
    out.emergency.sort_by_key(|e| e.id.0);
    Ok(Some(PrincipalRow {
        role,
        status,
        compliance,
        ..out
    }))
}
