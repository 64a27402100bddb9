//! The state shared by every handler.

use custos_app::App;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a login refused by the throttle waits before it is answered (or until the lock
/// ends, if sooner). A client that asks again at once, as a guessing script does, can then
/// send one attempt a second per connection instead of thousands: the flood costs the
/// server almost nothing and cannot crowd out other requests.
pub const TARPIT: Duration = Duration::from_secs(1);

/// At most this many refused logins wait at once; beyond that they are answered at once
/// (a held answer costs a connection and a task, and this bounds them).
pub const TARPIT_SLOTS: usize = 512;

/// Handler state: the application.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    /// Slots for held throttled answers.
    pub tarpit: Arc<Semaphore>,
    /// The firm's time zone, in which pages show times and read dates typed into forms.
    pub zone: jiff::tz::TimeZone,
}

impl AppState {
    /// State for `app`.
    pub fn new(app: App) -> Self {
        AppState {
            zone: app.time_zone().clone(),
            app,
            tarpit: Arc::new(Semaphore::new(TARPIT_SLOTS)),
        }
    }

    /// Holds a throttled login's answer for [`TARPIT`] (or the remaining lock, if shorter),
    /// when a slot is free.
    pub async fn tarpit(&self, retry_after_secs: u64) {
        if let Ok(_slot) = self.tarpit.try_acquire() {
            tokio::time::sleep(TARPIT.min(Duration::from_secs(retry_after_secs))).await;
        }
    }
}
