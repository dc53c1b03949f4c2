//! Service Connect: `[service_connect]` and `[services.<key>.connect]`.

use serde::{Deserialize, Serialize};

use super::yes;

/// `[service_connect]`: the Cloud Map HTTP namespace of the app.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ServiceConnect {
    /// Namespace name, e.g. `local` (clients then call `http://<dns_name>:<port>`).
    pub namespace: String,
    /// Use an existing namespace of that name instead of creating one.
    #[serde(default)]
    pub existing: bool,
    /// Make it the cluster's default Service Connect namespace. Default true.
    #[serde(default = "yes")]
    pub cluster_default: bool,
}

/// `[services.<key>.connect]`: published ports (none = client only) and proxy logs.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Connect {
    /// Ports this service publishes in the namespace. Empty: the service only calls others.
    #[serde(default)]
    pub publish: Vec<ConnectPort>,
    /// Stream prefix of the Service Connect proxy's logs in the app's log group.
    /// Default `<key>-connect`.
    pub log_stream_prefix: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ConnectPort {
    /// Container port to publish; one of the service's `ports`.
    pub port: u16,
    /// Name of the port mapping. Default: the service key.
    pub name: Option<String>,
    /// Cloud Map service name. Default: the port name.
    pub discovery_name: Option<String>,
    /// DNS name clients use. Default: the discovery name.
    pub dns_name: Option<String>,
    /// Port clients use. Default: `port`.
    pub client_port: Option<u16>,
}
