//! The one application state every handler receives.
use std::sync::Arc;

use gongshu_services::App;
use minijinja::Environment;

use crate::config::Config;

pub struct ServerState {
    pub app: Arc<App>,
    pub config: Config,
    pub templates: Environment<'static>,
    /// CKAN package dictionaries of the current open catalog snapshot.
    pub ckan_packages: crate::ckan::PackageCache,
}

#[derive(Clone)]
pub struct AppState(pub Arc<ServerState>);

impl std::ops::Deref for AppState {
    type Target = ServerState;
    fn deref(&self) -> &ServerState {
        &self.0
    }
}
