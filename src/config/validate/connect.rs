//! Validation of Service Connect: `[service_connect]` and `[services.<key>.connect]`.

use std::collections::BTreeMap;

use super::names::{
    check_regional_arn, connect_name_problem, dns_name_problem, namespace_problem,
    not_a_service_port,
};
use super::{
    root, service_path, Validator, MAX_CONNECT_NAME_LEN, MAX_DNS_NAME_LEN, MAX_NAMESPACE_LEN,
};
use crate::config::diagnostic::KeyPath;
use crate::config::model::{Config, Connect, Service};

/// The client-alias DNS names the config leaves to AWS's default, `<discovery
/// name>.<namespace>` (no `dns_name` written): (service key, publish index, the name).
/// A discovery or port name that is itself invalid is reported at its own key, not here.
pub fn default_dns_names<'c>(c: &'c Config, namespace: &str) -> Vec<(&'c str, usize, String)> {
    c.services
        .iter()
        .flat_map(|(key, s)| {
            s.connect
                .iter()
                .flat_map(|conn| conn.publish.iter().enumerate())
                .filter(|(_, p)| p.dns_name.is_none())
                .filter_map(move |(i, p)| {
                    let port_name = p.name.clone().unwrap_or_else(|| key.clone());
                    let discovery = p.discovery_name.clone().unwrap_or(port_name);
                    connect_name_problem(&discovery)
                        .is_none()
                        .then(|| (key.as_str(), i, format!("{discovery}.{namespace}")))
                })
        })
        .collect()
}

/// Why a default DNS name is not one AWS accepts for a client alias, as the message for its
/// publish entry.
pub fn default_dns_problem(dns: &str) -> Option<String> {
    dns_name_problem(dns).map(|reason| {
        format!(
            "its default DNS name `{dns}` (<discovery name>.<namespace>) is not a valid client \
             alias ({reason}); set dns_name to 1 to {MAX_DNS_NAME_LEN} lowercase letters, \
             digits, underscores, hyphens and dots"
        )
    })
}

impl Validator<'_> {
    /// `[service_connect]`, and what needs the whole app: every connected service needs the
    /// namespace, and discovery and DNS names are unique in it.
    pub(super) fn service_connect(&mut self) {
        let c = self.c;
        if let Some(sc) = c
            .service_connect
            .as_ref()
            .filter(|sc| sc.namespace.starts_with("arn:"))
        {
            // An existing namespace (for instance one shared from another account) by ARN.
            let np = root("service_connect").key("namespace");
            if !sc.existing {
                self.err(
                    np,
                    "an ARN names a namespace that already exists: set existing = true to use \
                     it, or give the name of the namespace ecsdeploy should create",
                );
            } else if let Err(m) = check_regional_arn(
                &sc.namespace,
                "a Cloud Map namespace ARN",
                "servicediscovery",
                "namespace/",
                "arn:aws:servicediscovery:ap-northeast-1:123456789012:namespace/ns-abc123",
            ) {
                self.err(np, m);
            }
        } else if let Some(sc) = &c.service_connect {
            if namespace_problem(&sc.namespace).is_none() {
                // A namespace given by ARN is checked once its name is read (observe).
                for (key, i, dns) in default_dns_names(c, &sc.namespace) {
                    if let Some(m) = default_dns_problem(&dns) {
                        self.err(service_path(key).key("connect").key("publish").index(i), m);
                    }
                }
            }
            if let Some(reason) = namespace_problem(&sc.namespace) {
                self.err(
                    root("service_connect").key("namespace"),
                    format!(
                        "`{}` is not a valid namespace name ({reason}); a Cloud Map namespace \
                         name is 1 to {MAX_NAMESPACE_LEN} letters, digits, hyphens and dots, not \
                         starting or ending with a dot or a hyphen (e.g. `local` or \
                         `internal.example`)",
                        sc.namespace
                    ),
                );
            }
        }
        // name → (service key, publish index, written explicitly)
        let mut discovery: BTreeMap<String, (&str, usize, bool)> = BTreeMap::new();
        let mut dns: BTreeMap<String, (&str, usize, bool)> = BTreeMap::new();
        for (key, s) in &c.services {
            let Some(conn) = &s.connect else {
                continue;
            };
            let cp = service_path(key).key("connect");
            if c.service_connect.is_none() {
                self.err(
                    cp.clone(),
                    "connect needs a namespace: add a [service_connect] section, e.g. \
                     namespace = \"local\", or remove connect",
                );
            }
            for (i, p) in conn.publish.iter().enumerate() {
                let pp = cp.key("publish").index(i);
                let port_name = p.name.clone().unwrap_or_else(|| key.clone());
                let discovery_name = p.discovery_name.clone().unwrap_or(port_name);
                // The same default the desired state uses: `<discovery name>.<namespace>`.
                let namespace = self
                    .c
                    .service_connect
                    .as_ref()
                    .map_or("", |n| n.namespace.as_str());
                let dns_name = p
                    .dns_name
                    .clone()
                    .unwrap_or_else(|| format!("{discovery_name}.{namespace}"));
                let explicit = p.discovery_name.is_some();
                match discovery.get(&discovery_name) {
                    // Two defaults in one service: the port names clash, reported there.
                    Some((k, _, e)) if *k == key.as_str() && !explicit && !e => {}
                    Some((k, j, _)) => {
                        let path = pp.key_if(explicit, "discovery_name");
                        self.err(
                            path,
                            format!(
                                "discovery name `{discovery_name}` of services.{key} is also the \
                                 discovery name of services.{k}.connect.publish[{j}]; discovery \
                                 names are unique in the namespace (they default to the port \
                                 name), so set a distinct `discovery_name`"
                            ),
                        );
                    }
                    None => {
                        discovery.insert(discovery_name, (key, i, explicit));
                    }
                }
                let explicit = p.dns_name.is_some();
                match dns.get(&dns_name) {
                    // Both derived from discovery names: that clash is reported above.
                    Some((_, _, false)) if !explicit => {}
                    Some((k, j, _)) => {
                        let path = pp.key_if(explicit, "dns_name");
                        self.err(
                            path,
                            format!(
                                "DNS name `{dns_name}` of services.{key} is also the DNS name of \
                                 services.{k}.connect.publish[{j}]; clients could not tell the \
                                 two apart, so set a distinct `dns_name`"
                            ),
                        );
                    }
                    None => {
                        dns.insert(dns_name, (key, i, explicit));
                    }
                }
            }
        }
    }

    /// `[services.<key>.connect]`: the checks that need only the service.
    pub(super) fn connect(&mut self, sp: &KeyPath, key: &str, s: &Service, conn: &Connect) {
        let cp = sp.key("connect");
        for (i, p) in conn.publish.iter().enumerate() {
            let pp = cp.key("publish").index(i);
            let in_ports = s.ports.contains(&p.port);
            if !in_ports {
                self.err(pp.key("port"), not_a_service_port(p.port, &s.ports));
            } else if s.port_protocol(key, p.port) == "udp" {
                // The Service Connect proxy carries TCP connections (HTTP, HTTP/2, gRPC or,
                // without an app protocol, plain TCP: ECS API Reference, "PortMapping",
                // appProtocol), and peers reach the port through it.
                self.err(
                    pp.key("port"),
                    format!(
                        "port {} is a UDP port of the task-definition file's main container; \
                         Service Connect proxies TCP only, so publish a TCP port",
                        p.port
                    ),
                );
            } else if let Some(j) = conn.publish[..i].iter().position(|x| x.port == p.port) {
                self.err(
                    pp.key("port"),
                    format!(
                        "port {} is already published by publish[{j}]; a port mapping has one \
                         name, so publish each port once",
                        p.port
                    ),
                );
            }
            let name = p.name.as_deref().unwrap_or(key);
            let np = pp.key_if(p.name.is_some(), "name");
            if let Some(n) = &p.name {
                if let Some(reason) = connect_name_problem(n) {
                    self.err(
                        np.clone(),
                        format!(
                            "`{n}` is not a valid port name ({reason}); port names are 1 to \
                             {MAX_CONNECT_NAME_LEN} lowercase letters, digits and hyphens, not \
                             starting with a hyphen"
                        ),
                    );
                }
            }
            if let Some(j) = conn.publish[..i]
                .iter()
                .position(|x| x.name.as_deref().unwrap_or(key) == name)
            {
                self.err(
                    np,
                    format!(
                        "port name `{name}` is also the name of publish[{j}] (a port name \
                         defaults to the service key); give each published port its own `name`"
                    ),
                );
            }
            if let Some(d) = &p.discovery_name {
                if let Some(reason) = connect_name_problem(d) {
                    self.err(
                        pp.key("discovery_name"),
                        format!(
                            "`{d}` is not a valid discovery name ({reason}); discovery names are \
                             1 to {MAX_CONNECT_NAME_LEN} lowercase letters, digits and hyphens, \
                             not starting with a hyphen"
                        ),
                    );
                }
            }
            if let Some(d) = &p.dns_name {
                if let Some(reason) = dns_name_problem(d) {
                    self.err(
                        pp.key("dns_name"),
                        format!(
                            "`{d}` is not a valid DNS name ({reason}); a client alias DNS name is \
                             1 to {MAX_DNS_NAME_LEN} lowercase letters, digits, underscores, hyphens and dots, \
                             not starting with a hyphen or a dot and not ending with a dot"
                        ),
                    );
                }
            }
            if let Some(cport) = p.client_port {
                if cport == 0 {
                    self.err(
                        pp.key("client_port"),
                        "client_port 0 is not a valid port; ports are 1 to 65535",
                    );
                } else if !in_ports {
                    self.err(
                        pp.key("client_port"),
                        format!(
                            "client alias port {cport} without a named port mapping: port {} is \
                             not one of the service's ports, so the task has no port mapping to \
                             name and the alias would lead nowhere; add {} to ports",
                            p.port, p.port
                        ),
                    );
                }
            }
        }
        if let Some(prefix) = &conn.log_stream_prefix {
            let lp = cp.key("log_stream_prefix");
            if prefix.is_empty() {
                self.err(
                    lp,
                    format!(
                        "log_stream_prefix is empty; omit it for the default `{key}-connect` or \
                         give a prefix such as `{key}-traffic`"
                    ),
                );
            } else if let Some(ch) = prefix.chars().find(|c| *c == ':' || *c == '*') {
                self.err(
                    lp,
                    format!(
                        "log_stream_prefix `{prefix}` contains `{ch}`; CloudWatch log stream \
                         names cannot contain `:` or `*`"
                    ),
                );
            }
        }
    }
}
