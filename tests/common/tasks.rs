//! One-off tasks in the realism layer ([`super::realism`]). moto runs no container: its
//! RunTask makes a task that is RUNNING at once and stops only when DescribeTasks has been
//! called four times, without an exit code or logs, and it answers RunTask with a 500 for a
//! task definition whose containers set no container-level memory (Fargate does not need
//! one, and ecsdeploy sets none). So the layer runs RunTask, DescribeTasks and StopTask of
//! the tasks it started itself, in ECS's JSON, with the lifecycle AWS documents (ECS
//! developer guide, "Task lifecycle": PROVISIONING → PENDING → RUNNING → DEPROVISIONING →
//! STOPPED) in compressed time, and adds the tasks' log events to FilterLogEvents answers.
//!
//! What the simulated container does is its command, read as a tiny shell: the command
//! override of the RunTask request (else the task definition's), `sh -c "<script>"` or
//! plain words, split at `;` and `&&`; `echo <words>` writes a log line, `exit <n>` ends with
//! that code, anything else succeeds silently. A container whose image contains
//! `unpullable` never starts: the task stops with `TaskFailedToStart` and
//! `CannotPullContainerError`, as ECS reports an image it cannot pull.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// A container of a registered task definition, as the layer needs it.
#[derive(Debug, Clone)]
struct ContainerDef {
    name: String,
    image: String,
    command: Vec<String>,
    /// awslogs (group, stream prefix).
    logs: Option<(String, String)>,
}

/// A registered task definition.
#[derive(Debug, Clone)]
struct Definition {
    family: String,
    awsvpc: bool,
    cpu: Value,
    memory: Value,
    containers: Vec<ContainerDef>,
}

/// A task the layer started.
#[derive(Debug, Clone)]
struct SimTask {
    arn: String,
    cluster_arn: String,
    definition_arn: String,
    definition: Definition,
    request: Value,
    created: Instant,
    created_epoch: f64,
    /// The main container (the first essential one; the one overridden if any).
    main: String,
    exit: i32,
    lines: Vec<String>,
    unpullable: Option<String>,
    /// StopTask: when, and the reason.
    stopped: Option<(Instant, String)>,
}

/// How long each phase lasts.
#[derive(Debug, Clone)]
pub struct TaskTimes {
    /// PROVISIONING (the ENI), then PENDING (the image pull), each this long.
    pub starting: Duration,
    /// RUNNING this long (the command's run time).
    pub running: Duration,
}

impl Default for TaskTimes {
    fn default() -> Self {
        TaskTimes {
            starting: Duration::from_millis(700),
            running: Duration::from_secs(2),
        }
    }
}

/// The layer's tasks and what it knows of task definitions, per account.
#[derive(Default)]
pub(super) struct Tasks {
    definitions: HashMap<String, Definition>,
    tasks: HashMap<String, SimTask>,
    next: u64,
}

/// An answer: `Ok(json)` or `Err((code, message))`.
pub(super) type Answer = Result<Value, (&'static str, String)>;

fn epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

/// What the tiny shell (see the module doc) makes of a command: (exit code, log lines).
pub fn simulate(command: &[String]) -> (i32, Vec<String>) {
    let script = match command {
        [sh, c, script, ..] if sh.ends_with("sh") && c == "-c" => script.clone(),
        words => words.join(" "),
    };
    let mut lines = vec![];
    for part in script.split(';').flat_map(|p| p.split("&&")) {
        let words: Vec<&str> = part.split_whitespace().collect();
        match words.as_slice() {
            ["echo", rest @ ..] => lines.push(rest.join(" ").trim_matches(['"', '\'']).to_owned()),
            ["exit", n] => return (n.parse().unwrap_or(1), lines),
            _ => {}
        }
    }
    (0, lines)
}

impl Tasks {
    /// Records a task definition from RegisterTaskDefinition's answer.
    pub(super) fn registered(&mut self, answer: &Value) {
        let td = &answer["taskDefinition"];
        let Some(arn) = td["taskDefinitionArn"].as_str() else {
            return;
        };
        let containers = td["containerDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let o = &c["logConfiguration"]["options"];
                ContainerDef {
                    name: c["name"].as_str().unwrap_or_default().to_owned(),
                    image: c["image"].as_str().unwrap_or_default().to_owned(),
                    command: strings(&c["command"]),
                    logs: (c["logConfiguration"]["logDriver"] == "awslogs")
                        .then(|| {
                            Some((
                                o["awslogs-group"].as_str()?.to_owned(),
                                o["awslogs-stream-prefix"].as_str()?.to_owned(),
                            ))
                        })
                        .flatten(),
                }
            })
            .collect();
        self.definitions.insert(
            arn.to_owned(),
            Definition {
                family: td["family"].as_str().unwrap_or_default().to_owned(),
                awsvpc: td["networkMode"] == "awsvpc",
                cpu: td["cpu"].clone(),
                memory: td["memory"].clone(),
                containers,
            },
        );
    }

    /// The definition a RunTask names: a full ARN, `family:revision` or `family` (the
    /// latest).
    fn definition(&self, named: &str) -> Option<(String, Definition)> {
        if let Some(d) = self.definitions.get(named) {
            return Some((named.to_owned(), d.clone()));
        }
        let short = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_owned();
        let revision = |arn: &str| {
            arn.rsplit(':')
                .next()
                .and_then(|r| r.parse::<u32>().ok())
                .unwrap_or(0)
        };
        self.definitions
            .iter()
            .filter(|(arn, d)| short(arn) == named || d.family == named)
            .max_by_key(|(arn, _)| revision(arn))
            .map(|(a, d)| (a.clone(), d.clone()))
    }

    /// RunTask, as ECS answers it (ECS API RunTask): refused for what ECS refuses, else one
    /// task, PROVISIONING.
    pub(super) fn run(&mut self, req: &Value, cluster_arn: Option<String>) -> Answer {
        let invalid = |m: &str| Err(("InvalidParameterException", m.to_owned()));
        let Some(cluster_arn) = cluster_arn else {
            return Err(("ClusterNotFoundException", "Cluster not found.".into()));
        };
        let named = req["taskDefinition"].as_str().unwrap_or_default();
        let Some((definition_arn, d)) = self.definition(named) else {
            return Err(("ClientException", "TaskDefinition not found.".into()));
        };
        if req.get("launchType").is_some() && req.get("capacityProviderStrategy").is_some() {
            return invalid(
                "Specify either Launch Type or Capacity Provider Strategy, but not both.",
            );
        }
        let vpc = &req["networkConfiguration"]["awsvpcConfiguration"];
        if d.awsvpc && vpc.is_null() {
            return invalid(
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            );
        }
        if d.awsvpc && strings(&vpc["subnets"]).is_empty() {
            return invalid("subnets can not be empty.");
        }
        let overrides = req["overrides"]["containerOverrides"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for o in &overrides {
            let name = o["name"].as_str().unwrap_or_default();
            if !d.containers.iter().any(|c| c.name == name) {
                return invalid(&format!(
                    "Override for container named {name} is not a container in the TaskDefinition."
                ));
            }
        }
        let main = overrides
            .iter()
            .find(|o| o.get("command").is_some())
            .and_then(|o| o["name"].as_str())
            .or(d.containers.first().map(|c| c.name.as_str()))
            .unwrap_or_default()
            .to_owned();
        let main_def = d.containers.iter().find(|c| c.name == main);
        let command = overrides
            .iter()
            .find(|o| o["name"] == main.as_str() && o.get("command").is_some())
            .map(|o| strings(&o["command"]))
            .or(main_def.map(|c| c.command.clone()))
            .unwrap_or_default();
        let (exit, lines) = simulate(&command);
        let unpullable = d
            .containers
            .iter()
            .find(|c| c.image.contains("unpullable"))
            .map(|c| c.image.clone());
        self.next += 1;
        let cluster = cluster_arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let id = format!("{:08x}{:024x}", 0x5eed_f00d_u32, self.next);
        let region = cluster_arn
            .split(':')
            .nth(3)
            .unwrap_or("us-east-1")
            .to_owned();
        let account = cluster_arn
            .split(':')
            .nth(4)
            .unwrap_or("123456789012")
            .to_owned();
        let arn = format!("arn:aws:ecs:{region}:{account}:task/{cluster}/{id}");
        let task = SimTask {
            arn: arn.clone(),
            cluster_arn,
            definition_arn,
            definition: d,
            request: req.clone(),
            created: Instant::now(),
            created_epoch: epoch(SystemTime::now()),
            main,
            exit,
            lines,
            unpullable,
            stopped: None,
        };
        let shown = self.json(&task, Instant::now(), &TaskTimes::default());
        self.tasks.insert(arn, task);
        Ok(json!({ "tasks": [shown], "failures": [] }))
    }

    /// ListTasks (ECS API): the layer's tasks of `cluster_arn` that match the request's
    /// filters (`family`, `startedBy`, `desiredStatus`, RUNNING by default; none of them
    /// belongs to a service), to add to moto's answer.
    pub(super) fn list(&self, req: &Value, cluster_arn: &str, times: &TaskTimes) -> Vec<String> {
        if req["serviceName"].is_string() {
            return vec![];
        }
        let now = Instant::now();
        let wanted = req["desiredStatus"].as_str().unwrap_or("RUNNING");
        let mut arns: Vec<String> = self
            .tasks
            .values()
            .filter(|t| t.cluster_arn == cluster_arn)
            .filter(|t| {
                req["family"]
                    .as_str()
                    .is_none_or(|f| f == t.definition.family)
            })
            .filter(|t| {
                req["startedBy"]
                    .as_str()
                    .is_none_or(|b| t.request["startedBy"].as_str() == Some(b))
            })
            .filter(|t| self.json(t, now, times)["desiredStatus"] == wanted)
            .map(|t| t.arn.clone())
            .collect();
        arns.sort();
        arns
    }

    /// Whether every task a DescribeTasks/StopTask names is one of the layer's.
    pub(super) fn owns(&self, named: &[String]) -> bool {
        !named.is_empty()
            && named.iter().all(|n| {
                self.tasks
                    .keys()
                    .any(|arn| arn == n || arn.rsplit('/').next() == Some(n.as_str()))
            })
    }

    fn find(&self, named: &str) -> Option<&String> {
        self.tasks
            .keys()
            .find(|arn| *arn == named || arn.rsplit('/').next() == Some(named))
    }

    pub(super) fn describe(&self, named: &[String], times: &TaskTimes) -> Answer {
        let now = Instant::now();
        let tasks: Vec<Value> = named
            .iter()
            .filter_map(|n| self.find(n))
            .map(|arn| self.json(&self.tasks[arn], now, times))
            .collect();
        Ok(json!({ "tasks": tasks, "failures": [] }))
    }

    /// StopTask (ECS API): the task goes on to STOPPED with `UserInitiated`.
    pub(super) fn stop(&mut self, named: &str, reason: Option<&str>, times: &TaskTimes) -> Answer {
        let Some(arn) = self.find(named).cloned() else {
            return Err((
                "InvalidParameterException",
                "The referenced task was not found.".into(),
            ));
        };
        let now = Instant::now();
        let task = self.tasks.get_mut(&arn).expect("found");
        if task.stopped.is_none() {
            task.stopped = Some((now, reason.unwrap_or("Task stopped by user").to_owned()));
        }
        let task = self.tasks[&arn].clone();
        Ok(json!({ "task": self.json(&task, now, times) }))
    }

    /// The task as DescribeTasks shows it at `now`.
    fn json(&self, t: &SimTask, now: Instant, times: &TaskTimes) -> Value {
        let age = now.duration_since(t.created);
        let at = |d: Duration| t.created_epoch + d.as_secs_f64();
        let running_at = times.starting * 2;
        let natural_end = running_at + times.running;
        let state = if t.unpullable.is_some() {
            if age < times.starting {
                ("PROVISIONING", "RUNNING")
            } else if age < running_at {
                ("PENDING", "RUNNING")
            } else {
                ("STOPPED", "STOPPED")
            }
        } else if let Some((when, _)) = &t.stopped {
            let since = now.duration_since(*when);
            if since < times.starting {
                ("DEACTIVATING", "STOPPED")
            } else {
                ("STOPPED", "STOPPED")
            }
        } else if age < times.starting {
            ("PROVISIONING", "RUNNING")
        } else if age < running_at {
            ("PENDING", "RUNNING")
        } else if age < natural_end {
            ("RUNNING", "RUNNING")
        } else {
            ("STOPPED", "STOPPED")
        };
        let (last, desired) = state;
        let mut task = json!({
            "taskArn": t.arn,
            "clusterArn": t.cluster_arn,
            "taskDefinitionArn": t.definition_arn,
            "lastStatus": last,
            "desiredStatus": desired,
            "startedBy": t.request["startedBy"],
            "group": format!("family:{}", t.definition.family),
            "createdAt": t.created_epoch,
            "cpu": t.definition.cpu,
            "memory": t.definition.memory,
            "platformVersion": "1.4.0",
            "overrides": if t.request["overrides"].is_null() { json!({"containerOverrides": []}) } else { t.request["overrides"].clone() },
            "tags": t.request["tags"].as_array().cloned().unwrap_or_default(),
            "attachments": [{
                "id": format!("eni-attachment-{}", t.arn.rsplit('/').next().unwrap_or_default()),
                "type": "ElasticNetworkInterface",
                "status": if last == "STOPPED" { "DELETED" } else { "ATTACHED" },
                "details": [{
                    "name": "subnetId",
                    "value": t.request["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0],
                }],
            }],
            "version": 1,
        });
        match t.request["capacityProviderStrategy"][0]["capacityProvider"].as_str() {
            Some(p) => task["capacityProviderName"] = p.into(),
            None => task["launchType"] = "FARGATE".into(),
        }
        let stopped = last == "STOPPED";
        if stopped {
            let (code, reason, end) = match (&t.unpullable, &t.stopped) {
                (Some(image), _) => (
                    "TaskFailedToStart",
                    format!(
                        "CannotPullContainerError: pull image manifest has been retried 5 time(s): \
                         failed to resolve ref {image}: not found"
                    ),
                    running_at,
                ),
                (None, Some((when, reason))) => (
                    "UserInitiated",
                    reason.clone(),
                    when.duration_since(t.created) + times.starting,
                ),
                (None, None) => (
                    "EssentialContainerExited",
                    "Essential container in task exited".to_owned(),
                    natural_end,
                ),
            };
            task["stopCode"] = code.into();
            task["stoppedReason"] = reason.into();
            task["stoppedAt"] = at(end).into();
            task["executionStoppedAt"] = at(end).into();
        }
        // ECS API Task: a task being stopped reports why from StopTask on, before STOPPED.
        if let (false, Some((when, reason))) = (stopped, &t.stopped) {
            task["stopCode"] = "UserInitiated".into();
            task["stoppedReason"] = reason.clone().into();
            task["stoppingAt"] = at(when.duration_since(t.created)).into();
        }
        if t.unpullable.is_none() && age >= running_at {
            task["startedAt"] = at(running_at).into();
        }
        let containers: Vec<Value> = t
            .definition
            .containers
            .iter()
            .map(|c| {
                let mut v = json!({
                    "containerArn": format!("{}/{}", t.arn.replace(":task/", ":container/"), c.name),
                    "taskArn": t.arn,
                    "name": c.name,
                    "image": c.image,
                    "lastStatus": match last {
                        "PROVISIONING" | "PENDING" => "PENDING",
                        "STOPPED" => "STOPPED",
                        _ => "RUNNING",
                    },
                });
                if stopped {
                    match (&t.unpullable, &t.stopped) {
                        (Some(_), _) => {
                            v["reason"] = task["stoppedReason"].clone();
                        }
                        // SIGTERM: a shell's 128 + 15.
                        (None, Some(_)) => v["exitCode"] = 143.into(),
                        (None, None) if c.name == t.main => v["exitCode"] = t.exit.into(),
                        (None, None) => v["exitCode"] = 0.into(),
                    }
                }
                v
            })
            .collect();
        task["containers"] = containers.into();
        task
    }

    /// The log events of the layer's tasks that a FilterLogEvents request selects, once
    /// their container runs: `<prefix>/<container>/<task id>` in the container's group.
    pub(super) fn log_events(&self, req: &Value, times: &TaskTimes) -> Vec<Value> {
        let group = req["logGroupName"].as_str().unwrap_or_default();
        let names = strings(&req["logStreamNames"]);
        let prefix = req["logStreamNamePrefix"].as_str();
        let start = req["startTime"].as_i64().unwrap_or(0);
        let now = Instant::now();
        let mut out = vec![];
        for t in self.tasks.values() {
            let running_at = times.starting * 2;
            if t.unpullable.is_some() || now.duration_since(t.created) < running_at {
                continue;
            }
            let Some(c) = t.definition.containers.iter().find(|c| c.name == t.main) else {
                continue;
            };
            let Some((g, p)) = &c.logs else { continue };
            let id = t.arn.rsplit('/').next().unwrap_or_default();
            let stream = format!("{p}/{}/{id}", c.name);
            let selected = if names.is_empty() {
                prefix.is_none_or(|x| stream.starts_with(x))
            } else {
                names.contains(&stream)
            };
            if g != group || !selected {
                continue;
            }
            let base = ((t.created_epoch + running_at.as_secs_f64()) * 1000.0) as i64;
            for (i, line) in t.lines.iter().enumerate() {
                let ts = base + i as i64;
                if ts < start {
                    continue;
                }
                out.push(json!({
                    "logStreamName": stream,
                    "timestamp": ts,
                    "ingestionTime": ts + 200,
                    "message": line,
                    "eventId": format!("{id}-{i}"),
                }));
            }
        }
        out
    }
}
