//! Deploy benchmark (`cargo bench --bench deploy`; not a timed test). Runs the real binary
//! against moto behind the test proxy with a fixed latency added to every AWS call, and
//! prints a Markdown table: wall time and API calls of a fresh `up`, a no-op `up`,
//! `status`, `plan` and `down`, with the default concurrency and with `--concurrency 1`,
//! for every example config and a synthetic app of 20 services; plus the critical-path
//! lower bound of the fresh `up` (observe and preflight plus the longest chain of dependent
//! steps, each step as long as its own sequential calls took), binary start time and peak
//! memory. Method and results: docs/performance.md.
//!
//! `ECSDEPLOY_BENCH_LATENCY_MS` sets the added latency (default 50), `ECSDEPLOY_BENCH_ONLY`
//! limits the run to configs whose name contains it, and `ECSDEPLOY_BENCH_TRACE=up,status`
//! prints every AWS call of those commands (when sent, how long it took) with their output.
//!
//! `ECSDEPLOY_BENCH_REALISM=1` adds a second table (`only`: just that one): a fresh `up` of
//! each example behind the AWS-realism layer, whose timelines (load balancer, NAT gateway,
//! DB instance, first deployment, IAM propagation) are AWS's typical durations from
//! `src/plan/durations.rs` divided by `ECSDEPLOY_BENCH_REALISM_SCALE` (default 10: a load
//! balancer 15 s, RDS 60 s), throttling off, no added latency. Each wall is set against the
//! ideal schedule: the plan's critical path (`plan --output json`'s `estimate`, the same
//! durations along AWS's own dependencies) divided by the same scale; ratios above 1.1 are
//! flagged and the run's `up --timeline` printed to stderr. The binary's poll and retry
//! pauses are divided by the same scale (`ECSDEPLOY_TEST_TIME_SCALE`, src/aws/retry.rs), so
//! that the whole run is AWS's, compressed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::faults::Faults;
use common::realism::Realism;
use common::{example, run_async, run_with_env, unique_account, Proxy};
use ecsdeploy::desired::Kind;
use ecsdeploy::plan::{durations, Action};

const REGION: &str = "ap-northeast-1";

struct Row {
    config: String,
    concurrency: &'static str,
    command: &'static str,
    seconds: f64,
    calls: usize,
    writes: usize,
    note: String,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let latency = Duration::from_millis(
        std::env::var("ECSDEPLOY_BENCH_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50),
    );
    let only = std::env::var("ECSDEPLOY_BENCH_ONLY").unwrap_or_default();
    let realism = std::env::var("ECSDEPLOY_BENCH_REALISM").unwrap_or_default();
    if realism == "only" {
        realism_table(&only).await;
        return;
    }
    let synthetic_dir = tempfile::tempdir().unwrap();
    let synthetic = synthetic_dir.path().join("synthetic-20.toml");
    std::fs::write(&synthetic, synthetic_app(20)).unwrap();
    let synthetic_10 = synthetic_dir.path().join("synthetic-10.toml");
    std::fs::write(&synthetic_10, synthetic_app(10)).unwrap();
    let mut configs: Vec<(String, PathBuf)> = [
        "fargate-public",
        "dynamodb-webapp",
        "service-connect",
        "wordpress",
    ]
    .iter()
    .map(|n| (n.to_string(), example(n)))
    .collect();
    configs.push(("synthetic-10".into(), synthetic_10));
    configs.push(("synthetic-20".into(), synthetic.clone()));
    configs.retain(|(n, _)| n.contains(&only));

    // moto imports each service's backend on its first request (EC2's takes seconds):
    // pay that once here, not inside the first config's numbers.
    let warm = Proxy::start(&unique_account()).await;
    for cfg in ["wordpress", "dynamodb-webapp", "service-connect"] {
        let path = example(cfg);
        let out = run_async(&warm, REGION, &["-c", path.to_str().unwrap(), "plan"]).await;
        assert!(out.success(), "warm-up plan of {cfg}:\n{out}");
    }

    let mut rows = Vec::new();
    for (name, path) in &configs {
        for (label, extra) in [("default", None), ("1", Some("1"))] {
            rows.extend(bench_config(name, path, label, extra, latency).await);
        }
    }
    println!(
        "\nAdded latency per AWS call: {} ms; moto 5.2.5 on 127.0.0.1.\n",
        latency.as_millis()
    );
    println!("| config | concurrency | command | wall (s) | API calls | writes | notes |");
    println!("|---|---|---|---:|---:|---:|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.2} | {} | {} | {} |",
            r.config, r.concurrency, r.command, r.seconds, r.calls, r.writes, r.note
        );
    }
    println!("\n{}", startup_and_memory(&synthetic).await);
    if !realism.is_empty() && realism != "0" {
        realism_table(&only).await;
    }
}

/// The examples a fresh `up` of which is set against the ideal schedule (alb-https-cognito
/// needs an existing network and certificate, so it is left out).
const REALISM_EXAMPLES: &[&str] = &[
    "fargate-public",
    "dynamodb-webapp",
    "service-connect",
    "wordpress",
];

/// A ratio of wall to ideal above this is flagged: some step waited for something it does
/// not need (issue 17's target).
const REALISM_TARGET: f64 = 1.1;

/// The realism layer with AWS's typical durations ([`durations::typical`]) divided by
/// `scale`; throttling off, so that only the timelines decide.
fn scaled_realism(scale: f64) -> Realism {
    let d = |kind: Kind, action: Action| durations::typical(kind, &action).div_f64(scale);
    Realism {
        propagation: d(Kind::IamRole, Action::Create),
        load_balancer: d(Kind::LoadBalancer, Action::Create),
        nat_gateway: d(Kind::NatGateway, Action::Create),
        db_instance: d(Kind::DbInstance, Action::Create),
        deployment: d(Kind::Service, Action::Create),
        deployment_looks: 0,
        draining: d(Kind::Service, Action::Delete),
        eni_linger: d(Kind::Subnet, Action::Delete),
        throttle: false,
        throttle_scale: 1.0,
        failing_services: vec![],
        failing_revisions: vec![],
        tasks: Default::default(),
        stage: Duration::from_secs(30).div_f64(scale),
        bake_minute: Duration::from_secs(60).div_f64(scale),
        failing_during_bake: vec![],
        // AWS's own pages (100 items, 10 services).
        list_page: usize::MAX,
    }
}

/// The second table: each example's fresh `up` behind the scaled realism layer against
/// its ideal schedule (see the module doc).
async fn realism_table(only: &str) {
    let scale: f64 = std::env::var("ECSDEPLOY_BENCH_REALISM_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s: &f64| *s >= 1.0)
        .unwrap_or(10.0);
    let mut rows = Vec::new();
    for name in REALISM_EXAMPLES.iter().filter(|n| n.contains(only)) {
        let proxy = Proxy::start_realistic(&unique_account(), scaled_realism(scale)).await;
        let path = example(name);
        let cfg = path.to_str().unwrap();
        let plan = run_async(&proxy, REGION, &["-c", cfg, "plan", "--output", "json"]).await;
        assert!(plan.success(), "{name} plan:\n{plan}");
        let doc: serde_json::Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
        let aws = doc["estimate"]["seconds"].as_f64().unwrap_or(0.0);
        let chain: Vec<String> = doc["estimate"]["critical_path"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|l| l["seconds"].as_f64().unwrap_or(0.0) >= 10.0)
                    .map(|l| l["id"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let ideal = aws / scale;
        let t = Instant::now();
        let out = run_with_env(
            &proxy,
            REGION,
            &["-c", cfg, "up", "--timeline"],
            &[("ECSDEPLOY_TEST_TIME_SCALE", &scale.to_string())],
        )
        .await;
        let wall = t.elapsed().as_secs_f64();
        assert!(out.success(), "{name} up behind the realism layer:\n{out}");
        let ratio = wall / ideal.max(f64::EPSILON);
        let flag = if ratio > REALISM_TARGET { " ⚠" } else { "" };
        if ratio > REALISM_TARGET || std::env::var("ECSDEPLOY_BENCH_TRACE").is_ok() {
            eprintln!(
                "--- {name}: wall {wall:.1} s, ideal {ideal:.1} s\n{}",
                out.stdout
            );
        }
        if std::env::var("ECSDEPLOY_BENCH_TRACE").is_ok() {
            for (call, at, took) in proxy.timeline(t) {
                eprintln!(
                    "{:8.3} {:6.3} {} {}",
                    at.as_secs_f64(),
                    took.as_secs_f64(),
                    call.service,
                    call.operation
                );
            }
        }
        rows.push(format!(
            "| {name} | {aws:.0} s | {ideal:.1} | {wall:.1} | {ratio:.2}{flag} | {} |",
            chain.join(" → ")
        ));
    }
    println!(
        "\nBehind the realism layer, AWS's typical durations ÷ {scale} (throttling off, no \
         added latency); target wall/ideal ≤ {REALISM_TARGET}:\n"
    );
    println!(
        "| example | critical path on AWS | ideal (s) | wall (s) | wall/ideal | its slow steps |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    for r in rows {
        println!("{r}");
    }
}

async fn bench_config(
    name: &str,
    path: &Path,
    label: &'static str,
    concurrency: Option<&str>,
    latency: Duration,
) -> Vec<Row> {
    let proxy = Proxy::start_with(
        &unique_account(),
        Faults {
            latency,
            ..Faults::default()
        },
    )
    .await;
    let cfg = path.to_str().unwrap();
    let mut rows = Vec::new();
    for command in ["up", "up (no-op)", "status", "plan", "down"] {
        let mut args = vec!["-c", cfg];
        if let Some(c) = concurrency {
            args.extend(["--concurrency", c]);
        }
        match command {
            "up" | "up (no-op)" => args.extend(["up", "--output", "json"]),
            "down" => args.extend(["down", "--yes"]),
            other => args.push(other),
        }
        proxy.clear();
        let t = Instant::now();
        let out = run_async(&proxy, REGION, &args).await;
        let seconds = t.elapsed().as_secs_f64();
        assert!(out.success(), "{name} {command}:\n{out}");
        if std::env::var("ECSDEPLOY_BENCH_TRACE").is_ok_and(|c| c.split(',').any(|c| c == command))
        {
            eprintln!("--- {name} (concurrency {label}) {command}: {seconds:.3} s");
            for (call, at, took) in proxy.timeline(t) {
                eprintln!(
                    "{:8.3} {:6.3} {} {}",
                    at.as_secs_f64(),
                    took.as_secs_f64(),
                    call.service,
                    call.operation
                );
            }
            eprintln!("{}", out.stdout);
        }
        let note = match command {
            "up" => critical_path_note(&out.stdout, release_seconds(&proxy), seconds, latency),
            _ => format!(
                "{} round trips (measured; wall/latency {:.0})",
                proxy.depth(),
                seconds / latency.as_secs_f64()
            ),
        };
        rows.push(Row {
            config: name.to_string(),
            concurrency: label,
            command,
            seconds,
            calls: proxy.calls().len(),
            writes: proxy.writes().len(),
            note,
        });
    }
    rows
}

/// How long the run lock's release took: the last call of an `up`, a DeleteItem.
fn release_seconds(proxy: &Proxy) -> f64 {
    match proxy.timeline(Instant::now()).last() {
        Some((call, _, took)) if call.operation == "DeleteItem" => took.as_secs_f64(),
        _ => 0.0,
    }
}

/// The fresh `up`'s critical-path lower bound: the calls every step waits for (the
/// session's reads and the run lock, concurrently; then observing; then the preflight
/// checks before the first write), the longest chain of
/// dependent steps (each as long as it took), and the lock's release. Whatever the engine
/// adds on top shows as the ratio.
fn critical_path_note(json: &str, release: f64, wall: f64, latency: Duration) -> String {
    // `up --output json` streams events, one a line; the result is the last.
    let last = json.lines().last().unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_str(last).unwrap_or_default();
    let setup = doc["setup_seconds"].as_f64().unwrap_or(0.0);
    let observe = doc["observe_seconds"].as_f64().unwrap_or(0.0);
    let preflight = doc["preflight_seconds"].as_f64().unwrap_or(0.0);
    let steps: BTreeMap<String, (f64, Vec<String>)> = doc["steps"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let deps = v["deps"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|d| d.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    (k.clone(), (v["seconds"].as_f64().unwrap_or(0.0), deps))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut memo: BTreeMap<String, f64> = BTreeMap::new();
    fn finish(
        id: &str,
        steps: &BTreeMap<String, (f64, Vec<String>)>,
        memo: &mut BTreeMap<String, f64>,
    ) -> f64 {
        if let Some(v) = memo.get(id) {
            return *v;
        }
        let (own, deps) = steps.get(id).cloned().unwrap_or_default();
        let before = deps
            .iter()
            .map(|d| finish(d, steps, memo))
            .fold(0.0, f64::max);
        memo.insert(id.to_string(), before + own);
        before + own
    }
    let chain = steps
        .keys()
        .map(|k| finish(k, &steps, &mut memo))
        .fold(0.0, f64::max);
    let bound = setup + observe + preflight + chain + release;
    format!(
        "critical path {bound:.2} s (setup {setup:.2} + observe {observe:.2} + preflight \
         {preflight:.2} + chain {chain:.2} + release {release:.2}; ≈ {:.0} round trips); \
         wall/bound {:.2}",
        bound / latency.as_secs_f64(),
        wall / bound.max(f64::EPSILON)
    )
}

/// `--help` start time (median of 20) and the peak resident memory of a fresh `up` of the
/// synthetic 20-service app (VmHWM sampled from /proc until the process exits).
async fn startup_and_memory(synthetic: &Path) -> String {
    let bin = env!("CARGO_BIN_EXE_ecsdeploy");
    let mut times: Vec<f64> = (0..20)
        .map(|_| {
            let t = Instant::now();
            let ok = std::process::Command::new(bin)
                .arg("--help")
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let proxy = Proxy::start(&unique_account()).await;
    let mut child = common::spawn(&proxy, REGION, &["-c", synthetic.to_str().unwrap(), "up"]);
    let pid = child.id().unwrap();
    let mut peak_kib = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(v) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(v);
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "synthetic up failed");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    format!(
        "Binary start (`ecsdeploy --help`): median {:.1} ms of 20 runs (min {:.1}, max {:.1}).\n\
         Peak memory of a fresh `up` of synthetic-20 (no added latency): {:.1} MiB (VmHWM).",
        times[10],
        times[0],
        times[19],
        peak_kib as f64 / 1024.0
    )
}

/// An app of `n` services behind one ALB, one path rule each, in public subnets.
fn synthetic_app(n: usize) -> String {
    let mut s = String::from(
        "app = \"synthetic\"\nregion = \"ap-northeast-1\"\n\
         [network]\nazs = [\"ap-northeast-1a\", \"ap-northeast-1c\"]\n\
         [load_balancer]\n[[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\n\
         service = \"s01\"\n",
    );
    for i in 2..=n {
        s.push_str(&format!(
            "[[load_balancer.listeners.rules]]\nservice = \"s{i:02}\"\npaths = [\"/s{i:02}/*\"]\n"
        ));
    }
    for i in 1..=n {
        s.push_str(&format!(
            "[services.s{i:02}]\nimage = \"nginx:latest\"\nports = [80]\n\
             target_group = {{ port = 80 }}\n"
        ));
    }
    s
}
