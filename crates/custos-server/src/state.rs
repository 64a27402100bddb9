//! The state shared by every handler.

use custos_app::App;

/// Handler state: the application.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases.
    pub app: App,
}
