//! A unit of work's operations, by area. Each area is a trait with one SQL text per operation,
//! implemented once for every backend's transaction (over [`crate::sql::exec`]); the audit
//! area's numbering is the one part each backend writes itself.

pub mod audit;
pub(crate) mod audit_tree;
pub mod checkpoints;
pub mod credentials;
pub mod emergency;
pub mod jobs;
pub mod people;
pub mod policies;
pub mod recipients;
pub mod records;
pub mod release;
pub mod sessions;
pub mod staffing;
pub mod transfers;
pub mod walls;

pub use audit::AuditTx;
pub use checkpoints::{CheckpointRow, CheckpointsTx, CosignatureRow};
pub use credentials::CredentialsTx;
pub use emergency::{BreakGlassFilter, ClientAudience, EmergencyTx, MatterAudience};
pub use jobs::{JobRow, JobsTx};
pub use people::PeopleTx;
pub use policies::{FirmPolicyRow, PoliciesTx};
pub use recipients::{ConsentRow, RecipientsTx, ThirdPartyRow};
pub use records::{NumberKind, RecordsTx};
pub use release::{DownloadRow, MailRow, ReleaseCodeRow, ReleaseLinkRow, ReleaseTx};
pub use sessions::SessionsTx;
pub use staffing::StaffingTx;
pub use transfers::{
    ApprovalRow, ExceptionRow, TransferFilter, TransferRow, TransferStatus, TransfersTx,
};
pub use walls::WallsTx;
