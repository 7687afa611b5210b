//! What the UI should refresh for, sent to `/api/stream` subscribers and the desktop shell. Its
//! own module so every domain can announce changes without knowing the app that wires them.

/// Something the UI should refresh for; sent to `/api/stream` subscribers and the desktop shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    Settings,
    Connection(String),
    Delivery(i64),
    Rejected(i64),
    Payment(i64),
    /// The tunnel's status changed; data is the new state (`starting`, `up`, ...).
    Tunnel(&'static str),
    /// Events from a site's script were stored; data is the site id.
    Pageview(String),
}

impl LiveEvent {
    /// The SSE event name and data the UI listens for.
    pub fn name_and_id(&self) -> (&'static str, String) {
        match self {
            LiveEvent::Settings => ("settings", "settings".into()),
            LiveEvent::Connection(id) => ("connection", id.clone()),
            LiveEvent::Delivery(id) => ("delivery", format!("d_{id}")),
            LiveEvent::Rejected(id) => ("delivery", format!("r_{id}")),
            LiveEvent::Payment(id) => ("payment", id.to_string()),
            LiveEvent::Tunnel(state) => ("tunnel", state.to_string()),
            LiveEvent::Pageview(site) => ("pageview", site.clone()),
        }
    }
}
