//! The pure conversion: a live service, as AWS describes it ([`Live`]), to the text of an
//! ecsdeploy config (and of a native task-definition file when the TOML keys cannot hold the
//! task), with the list of what cannot be expressed. No AWS call here.

use std::collections::{BTreeMap, BTreeSet};

use super::text::{q, strings, Section};
use super::{containers, network, routing, scaling, Keys, Live};

/// What the caller decides.
#[derive(Debug, Clone)]
pub struct Options {
    /// `CLUSTER/SERVICE` as given.
    pub source: String,
    /// The app name (default: made from the service's name).
    pub app: Option<String>,
    /// The native task-definition file's name, relative to the config (`{key}` is replaced by
    /// the service key).
    pub task_definition_file: String,
    /// When the conversion runs: a scheduled action's start and end times are compared
    /// with it.
    pub now: std::time::SystemTime,
}

/// The config text, the native file (name and JSON text) when one is needed, and what could
/// not be expressed.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub app: String,
    pub key: String,
    pub config: String,
    pub task_definition: Option<(String, String)>,
    pub not_expressible: Vec<String>,
}

/// A service key from a container name: lowercase letters, digits and single hyphens,
/// starting with a letter, at most 32 characters; `web` if nothing is left.
pub fn key_from(name: &str) -> String {
    crate::config::slug(name, 32, "web")
}

/// The container the service is about: the one its load balancer addresses, else the
/// first essential one, else the first.
fn main_container(live: &Live) -> String {
    let containers = live.task_definition.container_definitions();
    live.service
        .load_balancers()
        .iter()
        .filter_map(|l| l.container_name())
        .find(|n| containers.iter().any(|c| c.name() == Some(*n)))
        .map(str::to_string)
        .or_else(|| {
            containers
                .iter()
                .find(|c| c.essential() != Some(false))
                .or(containers.first())
                .and_then(|c| c.name())
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// The service-level settings ecsdeploy cannot express.
fn service_notes(live: &Live, notes: &mut Vec<String>) {
    let s = &live.service;
    if let Some(l) = s.launch_type().filter(|l| l.as_str() != "FARGATE") {
        notes.push(format!(
            "launch type `{}`: ecsdeploy runs services on Fargate",
            l.as_str()
        ));
    }
    if let Err(n) = capacity(s.capacity_provider_strategy()) {
        notes.push(n);
    }
    if let Some(p) = s.platform_version().filter(|p| *p != "LATEST") {
        notes.push(format!(
            "platform version `{p}`: ecsdeploy's services run on LATEST"
        ));
    }
    if let Some(c) = s
        .deployment_controller()
        .map(|d| d.r#type().as_str())
        .filter(|t| *t != "ECS")
    {
        notes.push(format!(
            "deployment controller `{c}`: ecsdeploy deploys with the ECS rolling controller"
        ));
    }
    if let Some(d) = s.deployment_configuration() {
        if d.alarms().is_some_and(|a| a.enable()) {
            notes.push("deployment alarms: not supported by ecsdeploy".into());
        }
        if d.strategy().is_some_and(|x| x.as_str() != "ROLLING") {
            notes.push(format!(
                "deployment strategy `{}`: ecsdeploy deploys ROLLING",
                d.strategy().map(|x| x.as_str()).unwrap_or_default()
            ));
        }
        if d.deployment_circuit_breaker().is_some_and(|c| !c.enable()) {
            notes.push("deployment circuit breaker off: ecsdeploy always turns it on".into());
        }
    }
    for r in s.service_registries() {
        notes.push(format!(
            "service discovery registry {}: ecsdeploy registers services through Service \
             Connect only",
            r.registry_arn().unwrap_or_default()
        ));
    }
    if let Some(p) = s.propagate_tags().filter(|p| p.as_str() != "NONE") {
        notes.push(format!(
            "propagateTags `{}`: ecsdeploy propagates its ownership tags from the service",
            p.as_str()
        ));
    }
    let tags: Vec<&str> = s
        .tags()
        .iter()
        .filter_map(|t| t.key())
        .filter(|k| !k.starts_with("aws:"))
        .collect();
    if !tags.is_empty() {
        notes.push(format!(
            "service tags {}: ecsdeploy tags what it creates with its ownership tags only",
            tags.join(", ")
        ));
    }
    if s.scheduling_strategy()
        .is_some_and(|x| x.as_str() == "DAEMON")
    {
        notes.push("scheduling strategy DAEMON: Fargate services are REPLICA".into());
    }
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    if primary.is_some_and(|d| !d.volume_configurations().is_empty()) {
        notes.push("volume configurations (EBS): not supported by ecsdeploy".into());
    }
}

/// The conversion.
pub fn convert(live: &Live, o: &Options) -> Conversion {
    let mut notes = Vec::new();
    let service_name = live.service.service_name().unwrap_or("service");
    let app = o
        .app
        .clone()
        .unwrap_or_else(|| crate::commands::init::app_name_from(service_name));
    let main = main_container(live);
    let key = key_from(&main);
    service_notes(live, &mut notes);
    let tasks = containers::convert(&live.task_definition, &main, &key, &mut notes);
    let routing = routing::convert(live, &key, &main, &tasks.ports, &mut notes);
    let has_tg = !routing.is_empty();
    if !has_tg
        && live
            .service
            .health_check_grace_period_seconds()
            .unwrap_or(0)
            > 0
    {
        notes.push(
            "health check grace period: ecsdeploy sets it only for a service behind its load \
             balancer"
                .into(),
        );
    }
    let autoscaling = scaling::autoscaling(
        live.scalable_target.as_ref(),
        &live.scaling_policies,
        &live.scheduled_actions,
        &scaling::ScalingIn {
            has_target_group: has_tg,
            action_prefix: &format!("{app}-{key}"),
            now: o.now,
        },
        &mut notes,
    );
    let primary = live
        .service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    let connect = scaling::connect(
        primary.and_then(|d| d.service_connect_configuration()),
        &tasks.port_names,
        &mut notes,
    );

    // The network: which subnets are public, and which list the service and the load
    // balancer use.
    let vpc_conf = live
        .service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let service_subnets: Vec<String> = vpc_conf.map(|v| v.subnets().to_vec()).unwrap_or_default();
    let mut all: Vec<String> = service_subnets.clone();
    all.extend(routing.lb_subnets.iter().cloned());
    all.sort();
    all.dedup();
    let public = network::public_subnets(&all, &live.route_tables);
    let (svc_public, svc_private): (Vec<&String>, Vec<&String>) =
        service_subnets.iter().partition(|s| public.contains(*s));
    let service_in_public = svc_public.len() >= svc_private.len() && !svc_public.is_empty();
    if !svc_public.is_empty() && !svc_private.is_empty() {
        notes.push(format!(
            "the service runs in public and private subnets at once; the new one runs in the \
             {} ones only",
            if service_in_public {
                "public"
            } else {
                "private"
            }
        ));
    }
    let assign_public = vpc_conf
        .and_then(|v| v.assign_public_ip())
        .is_some_and(|a| a.as_str() == "ENABLED");
    let (mut public_list, mut private_list) = (BTreeSet::new(), BTreeSet::new());
    for s in if service_in_public {
        &svc_public
    } else {
        &svc_private
    } {
        if service_in_public {
            public_list.insert((*s).clone());
        } else {
            private_list.insert((*s).clone());
        }
    }
    let lb_public = routing.lb_subnets.iter().all(|s| public.contains(s));
    for s in &routing.lb_subnets {
        if public.contains(s) {
            public_list.insert(s.clone());
        } else {
            private_list.insert(s.clone());
        }
    }
    if has_tg {
        let same_kind = lb_public == service_in_public;
        let extra: Vec<&String> = routing
            .lb_subnets
            .iter()
            .filter(|s| same_kind && !service_subnets.contains(s))
            .collect();
        if !extra.is_empty() {
            notes.push(format!(
                "the new service also runs in the load balancer's subnets {} (ecsdeploy puts a \
                 service in every subnet of its kind)",
                extra
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let vpc = live
        .subnets
        .first()
        .and_then(|s| s.vpc_id())
        .unwrap_or_default()
        .to_string();

    // The text.
    let mut sections: Vec<Section> = Vec::new();
    let mut top = Section::new("");
    top.set("app", q(&app));
    top.set("region", q(&live.region));
    sections.push(top);

    let mut net = Section::new("network.existing");
    net.comment("The live service's VPC and subnets, used as they are: ecsdeploy never modifies");
    net.comment("or deletes imported network resources. Subnets are public when their route");
    net.comment("table sends 0.0.0.0/0 to an internet gateway.");
    net.set("vpc", q(&vpc));
    if !public_list.is_empty() {
        net.set(
            "public_subnets",
            strings(&public_list.iter().collect::<Vec<_>>()),
        );
    }
    if !private_list.is_empty() {
        net.set(
            "private_subnets",
            strings(&private_list.iter().collect::<Vec<_>>()),
        );
    }
    sections.push(net);

    // Names ecsdeploy would derive that the live service's own resources already hold
    // (the console names a log group `/ecs/<family>`): ecsdeploy does not adopt what it did
    // not create, so the new deployment gets names of its own.
    if live.cluster == format!("{app}-cluster") {
        let mut c = Section::new("cluster");
        c.comment(&format!(
            "`{app}-cluster` is the live service's cluster; the new deployment gets its own."
        ));
        c.set("name", q(&format!("{app}-ecsdeploy")));
        sections.push(c);
    }
    let derived_group = format!("/ecs/{app}");
    let groups_in_use: Vec<&str> = live
        .task_definition
        .container_definitions()
        .iter()
        .filter_map(|c| c.log_configuration()?.options()?.get("awslogs-group"))
        .map(String::as_str)
        .collect();
    if groups_in_use.contains(&derived_group.as_str()) {
        let mut l = Section::new("logs");
        l.comment(&format!(
            "`{derived_group}` is the live service's log group; the new deployment gets its own."
        ));
        l.set("group", q(&format!("/ecsdeploy/{app}")));
        sections.push(l);
    }

    if let Some(role) = live.task_definition.execution_role_arn() {
        let mut iam = Section::new("iam");
        iam.comment(
            "The live task definition's execution role, reused (ecsdeploy does not modify it):",
        );
        iam.comment("it can already pull the image and read the secrets.");
        iam.set("execution_role", q(role));
        sections.push(iam);
    }

    if has_tg {
        let mut lb = Section::new("load_balancer");
        let old = live
            .load_balancers
            .iter()
            .find(|l| {
                routing.lb_subnets.iter().all(|s| {
                    l.availability_zones()
                        .iter()
                        .any(|z| z.subnet_id() == Some(s.as_str()))
                })
            })
            .and_then(|l| l.load_balancer_name())
            .unwrap_or_default();
        lb.comment(&format!(
            "A new Application Load Balancer beside the live one (`{old}`), with the listeners and"
        ));
        lb.comment(
            "rules that reach this service; its security groups are the live load balancer's.",
        );
        if live
            .load_balancers
            .iter()
            .any(|l| l.load_balancer_name() == Some(app.as_str()))
        {
            lb.set_noted(
                "name",
                q(&format!("{app}-ecsdeploy")),
                &format!("`{app}` is the live load balancer's name"),
            );
        }
        for (k, v) in &routing.load_balancer {
            lb.set(k, v.clone());
        }
        lb.set("subnets", q(if lb_public { "public" } else { "private" }));
        sections.push(lb);
        for l in &routing.listeners {
            let mut s = Section::array("load_balancer.listeners");
            for (k, v) in &l.keys {
                s.set(k, v.clone());
            }
            sections.push(s);
            for r in &l.rules {
                let mut s = Section::array("load_balancer.listeners.rules");
                for (k, v) in r {
                    s.set(k, v.clone());
                }
                sections.push(s);
            }
        }
    }

    if !connect.namespace.is_empty() {
        let mut s = Section::new("service_connect");
        s.comment("The live service's Service Connect namespace (not created, not modified).");
        for (k, v) in &connect.namespace {
            s.set(k, v.clone());
        }
        sections.push(s);
    }

    // Secrets Manager secrets of the main container, as existing secrets it uses.
    let mut uses: Vec<Keys> = Vec::new();
    let mut secret_keys = BTreeSet::new();
    for (env, value_from) in &tasks.secrets {
        let mut k = key_from(env);
        while !secret_keys.insert(k.clone()) {
            k.push('x');
        }
        let mut s = Section::new(&format!("secrets.{k}"));
        s.set_noted(
            "existing",
            q(value_from),
            "only its ARN is read, never its value",
        );
        sections.push(s);
        let mut u: Keys = vec![("secret".into(), q(&k))];
        u.push((
            String::new(),
            format!("# {env} from this secret, as in the live task definition"),
        ));
        if k.to_uppercase().replace('-', "_") != *env {
            u.push(("env".into(), q(env)));
        }
        uses.push(u);
    }

    let svc_header = format!("services.{key}");
    let mut svc = Section::new(&svc_header);
    svc.comment(&format!(
        "The live service `{service_name}` of cluster `{}`, task definition {}.",
        live.cluster,
        live.task_definition
            .task_definition_arn()
            .and_then(|a| a.rsplit('/').next())
            .unwrap_or_default()
    ));
    svc.comment(&format!(
        "The new one is `{app}-{key}` in the cluster `{app}-cluster`, which ecsdeploy creates."
    ));
    if live.task_definition.family() == Some(format!("{app}-{key}").as_str()) {
        svc.set_noted(
            "name",
            q(&format!("{app}-{key}-ecsdeploy")),
            &format!(
                "`{app}-{key}` is the live task-definition family; the new service and \
                 family get this name"
            ),
        );
    }
    let td_file = o.task_definition_file.replace("{key}", &key);
    if tasks.native.is_some() {
        svc.set_noted(
            "task_definition",
            q(&td_file),
            &format!("needed for: {}", tasks.native_reasons.join("; ")),
        );
    }
    for (k, v) in &tasks.keys {
        svc.set(k, v.clone());
    }
    svc.set(
        "desired_count",
        live.service.desired_count().max(0).to_string(),
    );
    svc.set(
        "subnets",
        q(if service_in_public {
            "public"
        } else {
            "private"
        }),
    );
    if service_in_public && !assign_public {
        svc.set_noted(
            "assign_public_ip",
            "false",
            "as the live service (ecsdeploy warns: such tasks need endpoints to pull images)",
        );
    } else if !service_in_public && assign_public {
        notes.push(
            "assignPublicIp ENABLED in private subnets: does nothing there, and ecsdeploy \
             refuses it"
                .into(),
        );
    }
    let sgs = vpc_conf
        .map(|v| v.security_groups().to_vec())
        .unwrap_or_default();
    if !sgs.is_empty() {
        for g in &sgs {
            if let Some(group) = live
                .security_groups
                .iter()
                .find(|x| x.group_id() == Some(g.as_str()))
            {
                svc.note(&format!(
                    "{g} ({}): {}",
                    group.group_name().unwrap_or_default(),
                    inbound(group)
                ));
            }
        }
        svc.set("security_groups", strings(&sgs));
    }
    if let Some(role) = live.task_definition.task_role_arn() {
        svc.set("task_role", q(role));
    }
    if live.service.enable_execute_command() {
        svc.set("enable_execute_command", "true");
    }
    if let Ok(Some((spot, base, exact))) = capacity(live.service.capacity_provider_strategy()) {
        let value = format!("{{ spot = {spot}, on_demand_base = {base} }}");
        if exact {
            svc.set("capacity", value);
        } else {
            svc.set_noted(
                "capacity",
                &value,
                "the live weights are not a whole percentage: rounded",
            );
        }
    }
    sections.push(svc);

    let sub = |name: &str, keys: &Keys, sections: &mut Vec<Section>| {
        if keys.is_empty() {
            return;
        }
        let mut s = Section::new(&format!("{svc_header}.{name}"));
        for (k, v) in keys {
            s.set(k, v.clone());
        }
        sections.push(s);
    };
    sub("environment", &tasks.environment, &mut sections);
    if has_tg {
        sub("target_group", &routing.target_group, &mut sections);
        sub(
            "target_group.health_check",
            &routing.health_check,
            &mut sections,
        );
    }
    if let Some(d) = live.service.deployment_configuration() {
        let mut keys = Keys::new();
        if let Some(m) = d
            .minimum_healthy_percent()
            .filter(|m| (0..=100).contains(m))
        {
            keys.push(("minimum_healthy_percent".into(), m.to_string()));
        }
        if let Some(m) = d.maximum_percent() {
            if (100..=200).contains(&m) {
                keys.push(("maximum_percent".into(), m.to_string()));
            } else {
                notes.push(format!(
                    "deployment maximumPercent {m}: ecsdeploy takes 100 to 200; the new \
                     service uses 200"
                ));
            }
        }
        if let Some(c) = d.deployment_circuit_breaker() {
            keys.push(("rollback".into(), c.rollback().to_string()));
        }
        sub("deployment", &keys, &mut sections);
    }
    sub("health_check", &tasks.health_check, &mut sections);
    sub("autoscaling", &autoscaling.keys, &mut sections);
    for sch in &autoscaling.schedules {
        let mut s = Section::new(&format!("{svc_header}.autoscaling.schedules.{}", sch.name));
        s.comment(&format!(
            "The live scheduled action `{}`; the new service's is `{app}-{key}-{}`.",
            sch.live_name, sch.name
        ));
        for (k, v) in &sch.keys {
            s.set(k, v.clone());
        }
        sections.push(s);
    }
    if let Some(c) = &connect.connect {
        let mut s = Section::new(&format!("{svc_header}.connect"));
        for (k, v) in c {
            s.set(k, v.clone());
        }
        sections.push(s);
        for p in &connect.publish {
            let mut s = Section::array(&format!("{svc_header}.connect.publish"));
            for (k, v) in p {
                s.set(k, v.clone());
            }
            sections.push(s);
        }
    }
    for u in &uses {
        let mut s = Section::array(&format!("{svc_header}.uses"));
        for (k, v) in u {
            if k.is_empty() {
                s.lines.push(v.clone());
            } else {
                s.set(k, v.clone());
            }
        }
        sections.push(s);
    }

    let mut text = header(o, live, &notes);
    for s in &sections {
        s.render(&mut text);
    }
    let text = text.trim_end().to_string() + "\n";
    let task_definition = tasks.native.as_ref().map(|v| {
        (
            td_file,
            serde_json::to_string_pretty(v).expect("JSON values serialise") + "\n",
        )
    });
    Conversion {
        app,
        key,
        config: text,
        task_definition,
        not_expressible: notes,
    }
}

/// The comment block at the top: where the config comes from and what it cannot express.
fn header(o: &Options, live: &Live, notes: &[String]) -> String {
    let mut s = format!(
        "# ecsdeploy configuration written by `ecsdeploy init --from-service {}` from the live\n\
         # service {}.\n\
         # It describes a new deployment beside the old one, in the same VPC and subnets: the\n\
         # old service and everything it uses are only read, never changed. `ecsdeploy plan`\n\
         # shows what `up` would create. Every key is described in docs/configuration.md.\n#\n",
        o.source,
        live.service.service_arn().unwrap_or_default()
    );
    if notes.is_empty() {
        s.push_str("# Everything the live service has is expressed below.\n\n");
    } else {
        s.push_str(&format!(
            "# Not expressible in ecsdeploy ({}): the new deployment differs here.\n",
            notes.len()
        ));
        for n in notes {
            let mut line = String::from("#   - ");
            for word in n.split(' ') {
                if line.len() + word.len() > 92 && line.trim() != "#   -" {
                    s.push_str(line.trim_end());
                    s.push('\n');
                    line = String::from("#     ");
                }
                line.push_str(word);
                line.push(' ');
            }
            s.push_str(line.trim_end());
            s.push('\n');
        }
        s.push('\n');
    }
    s
}

/// `tcp 80 from sg-1, tcp 443 from 0.0.0.0/0`: a group's inbound rules, for a comment.
fn inbound(g: &aws_sdk_ec2::types::SecurityGroup) -> String {
    let mut rules: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in g.ip_permissions() {
        let proto = match p.ip_protocol() {
            Some("-1") | None => "all".to_string(),
            Some(x) => x.to_string(),
        };
        let ports = match (p.from_port(), p.to_port()) {
            (Some(a), Some(b)) if a == b && a >= 0 => format!("{proto} {a}"),
            (Some(a), Some(b)) if a >= 0 => format!("{proto} {a}-{b}"),
            _ => proto.clone(),
        };
        let from = rules.entry(ports).or_default();
        from.extend(
            p.ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip().map(str::to_string)),
        );
        from.extend(
            p.user_id_group_pairs()
                .iter()
                .filter_map(|r| r.group_id().map(str::to_string)),
        );
    }
    if rules.is_empty() {
        return "admits nothing inbound".into();
    }
    let parts: Vec<String> = rules
        .into_iter()
        .map(|(ports, from)| format!("{ports} from {}", from.join(", ")))
        .collect();
    format!("admits {}", parts.join("; "))
}

/// A Fargate capacity provider strategy as `services.<key>.capacity`: (spot %, on-demand
/// base, whether the percentage is exact); `None` for no strategy (the launch type); the
/// note when it cannot be expressed (another provider, a base on Spot).
fn capacity(
    strategy: &[aws_sdk_ecs::types::CapacityProviderStrategyItem],
) -> Result<Option<(u32, u32, bool)>, String> {
    if strategy.is_empty() {
        return Ok(None);
    }
    let (mut on_demand, mut spot, mut base) = (0u32, 0u32, 0u32);
    for i in strategy {
        let weight = i.weight().max(0) as u32;
        match i.capacity_provider() {
            "FARGATE" => {
                on_demand += weight;
                base += i.base().max(0) as u32;
            }
            "FARGATE_SPOT" if i.base() <= 0 => spot += weight,
            other => {
                let listed: Vec<String> = strategy
                    .iter()
                    .map(|c| {
                        format!(
                            "{} (base {}, weight {})",
                            c.capacity_provider(),
                            c.base(),
                            c.weight()
                        )
                    })
                    .collect();
                return Err(format!(
                    "capacity provider strategy {}: `{other}`{} cannot be expressed; ecsdeploy's \
                     `capacity` splits tasks between FARGATE (with a base) and FARGATE_SPOT",
                    listed.join(", "),
                    if other == "FARGATE_SPOT" {
                        " with a base"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    let total = on_demand + spot;
    if total == 0 {
        return Err("capacity provider strategy with no weight: not expressible".into());
    }
    let percent = (spot * 100 + total / 2) / total;
    Ok(Some((percent, base, spot * 100 % total == 0)))
}

#[cfg(test)]
mod capacity_tests {
    use super::capacity;
    use aws_sdk_ecs::types::CapacityProviderStrategyItem as Item;

    fn item(p: &str, base: i32, weight: i32) -> Item {
        Item::builder()
            .capacity_provider(p)
            .base(base)
            .weight(weight)
            .build()
            .unwrap()
    }

    #[test]
    fn fargate_strategies_become_capacity() {
        assert_eq!(capacity(&[]), Ok(None));
        let mixed = [item("FARGATE", 1, 1), item("FARGATE_SPOT", 0, 3)];
        assert_eq!(capacity(&mixed), Ok(Some((75, 1, true))));
        let thirds = [item("FARGATE", 0, 1), item("FARGATE_SPOT", 0, 2)];
        assert_eq!(capacity(&thirds), Ok(Some((67, 0, false))));
        let spot_base = [item("FARGATE_SPOT", 2, 1)];
        assert!(capacity(&spot_base).unwrap_err().contains("with a base"));
        let asg = [item("my-asg", 0, 1)];
        assert!(capacity(&asg).unwrap_err().contains("`my-asg`"));
    }
}
