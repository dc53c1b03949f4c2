//! Broken configs, table-driven: each is rejected by the real binary with exit code 2, every
//! problem located as `file:line:col: key: message`, and not a single AWS call.
//!
//! Every case runs `plan`; some also run `up`, `status` and `down --yes`. Each case gets its
//! own proxy (and moto account), and all cases run concurrently.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{run_async, unique_account, Output, Proxy};
use futures::future::join_all;

const REGION: &str = "ap-northeast-1";

/// One expected diagnostic: line, column, key path (empty for parser errors, which name no
/// key) and a distinctive part of the message.
type Expect = (usize, usize, &'static str, &'static str);

struct Case {
    name: &'static str,
    toml: &'static str,
    /// Further files next to the config (seed files), by relative path.
    files: &'static [(&'static str, &'static str)],
    /// Every diagnostic, in the order printed (sorted by line and column).
    expect: &'static [Expect],
    /// Commands run besides `plan`.
    also: &'static [&'static str],
}

const fn case(name: &'static str, toml: &'static str, expect: &'static [Expect]) -> Case {
    Case {
        name,
        toml,
        files: &[],
        expect,
        also: &[],
    }
}

impl Case {
    const fn files(mut self, files: &'static [(&'static str, &'static str)]) -> Case {
        self.files = files;
        self
    }

    const fn also(mut self, also: &'static [&'static str]) -> Case {
        self.also = also;
        self
    }
}

/// The commands that run a config through every stage a real run would.
const ALL: &[&str] = &["up", "status", "down --yes"];

const CASES: &[Case] = &[
    // ---- TOML syntax ------------------------------------------------------------------
    case(
        "syntax: unclosed string",
        "app = \"demo\n[services.web]\nimage = \"nginx\"\n",
        &[(1, 12, "", "invalid basic string")],
    )
    .also(ALL),
    case(
        "syntax: duplicate key",
        "app = \"demo\"\napp = \"demo2\"\n",
        &[(2, 1, "", "duplicate key")],
    ),
    case(
        "syntax: bad table header",
        "app = \"demo\"\n[services.web\nimage = \"nginx\"\n",
        &[(2, 14, "", "unclosed table, expected `]`")],
    ),
    case(
        "syntax: table defined twice",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\n[services.web]\ncpu = 512\n",
        &[(4, 11, "", "duplicate key")],
    ),
    case(
        "syntax: key without a value",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu =\n",
        &[(4, 6, "", "string values must be quoted")],
    ),
    case(
        "syntax: unclosed inline table",
        "app = \"demo\"\n[services.web]\nimage = { repository = \"web\", tag = \"v1\"\n",
        &[(3, 41, "", "unclosed inline table, expected `}`")],
    ),
    // ---- types -------------------------------------------------------------------------
    case(
        "type: string for a number",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = \"256\"\n",
        &[(4, 7, "", "invalid type: string \"256\", expected u32")],
    )
    .also(&["up"]),
    case(
        "type: number for a string",
        "app = 42\n",
        &[(1, 7, "", "invalid type: integer `42`, expected a string")],
    ),
    case(
        "type: array for the image table",
        "app = \"demo\"\n[services.web]\nimage = [\"nginx\"]\n",
        &[(
            3,
            9,
            "",
            "invalid type: sequence, expected an image reference string or a table",
        )],
    ),
    case(
        "type: array for the services table",
        "app = \"demo\"\nservices = [\"web\"]\n",
        &[(2, 1, "services", "invalid type: sequence, expected a table")],
    ),
    case(
        "type: boolean for a number",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ndesired_count = true\n",
        &[(4, 17, "", "invalid type: boolean `true`, expected u32")],
    ),
    case(
        "type: negative count",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ndesired_count = -1\n",
        &[(4, 17, "", "invalid value: integer `-1`, expected u32")],
    ),
    case(
        "type: port beyond 65535",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80, 70000]\n",
        &[(4, 14, "", "invalid value: integer `70000`, expected u16")],
    ),
    case(
        "type: unknown enum value",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nsubnets = \"dmz\"\n",
        &[(
            4,
            11,
            "",
            "unknown variant `dmz`, expected `public` or `private`",
        )],
    ),
    case(
        "type: missing required key",
        "app = \"demo\"\n[services.web]\ncpu = 256\n",
        &[(2, 11, "services.web", "missing `image`")],
    ),
    // ---- unknown keys ------------------------------------------------------------------
    case(
        "unknown key: top level",
        "app = \"demo\"\ncolour = \"blue\"\n",
        &[(2, 1, "colour", "unknown key `colour`")],
    ),
    case(
        "unknown key: in a service",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nreplicas = 2\n",
        &[(4, 1, "services.web.replicas", "unknown key `replicas`")],
    ),
    case(
        "unknown key: in an inline table",
        "app = \"demo\"\n[repositories.web]\n[services.web]\n\
         image = { repository = \"web\", tagg = \"v1\" }\n",
        &[(4, 31, "services.web.image.tagg", "unknown key `tagg`")],
    ),
    case(
        "unknown key: three at once, top level, service, nested table",
        "app = \"demo\"\ncolour = \"blue\"\n[services.web]\nimage = \"nginx\"\nreplicas = 2\n\
         [services.web.deployment]\nrollbak = true\n",
        &[
            (2, 1, "colour", "unknown key `colour`"),
            (5, 1, "services.web.replicas", "unknown key `replicas`"),
            (
                7,
                1,
                "services.web.deployment.rollbak",
                "unknown key `rollbak`",
            ),
        ],
    )
    .also(ALL),
    // ---- limits ------------------------------------------------------------------------
    case(
        "limit: cpu not a Fargate size",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = 300\n",
        &[(
            4,
            1,
            "services.web.cpu",
            "cpu 300 is not a Fargate task size; use one of: 256, 512, 1024",
        )],
    )
    .also(&["up"]),
    case(
        "limit: memory invalid for the cpu",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ncpu = 256\nmemory = 4096\n",
        &[(
            5,
            1,
            "services.web.memory",
            "memory 4096 MiB is not valid with cpu 256 on Fargate",
        )],
    ),
    case(
        "limit: desired_count too large",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ndesired_count = 5000\n",
        &[(
            4,
            1,
            "services.web.desired_count",
            "desired_count is 5000; the limit is 1000",
        )],
    ),
    case(
        "limit: container health check interval",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         health_check = { command = \"true\", interval = 400 }\n",
        &[(
            5,
            36,
            "services.web.health_check.interval",
            "interval is 400; it must be 5 to 300",
        )],
    ),
    case(
        "limit: target group health check timeout",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80, health_check = { timeout = 1 } }\n[load_balancer]\n\
         [[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\nservice = \"web\"\n",
        &[(
            5,
            46,
            "services.web.target_group.health_check.timeout",
            "timeout is 1; it must be 2 to 120",
        )],
    ),
    case(
        "limit: health check timeout not below the interval",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         [services.web.target_group]\nport = 80\nhealth_check = { interval = 10, timeout = 10 }\n\
         [load_balancer]\n[[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\n\
         service = \"web\"\n",
        &[(
            7,
            33,
            "services.web.target_group.health_check.timeout",
            "timeout (10 s) must be less than interval (10 s)",
        )],
    ),
    case(
        "limit: load balancer idle timeout",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80 }\n[load_balancer]\nidle_timeout = 0\n\
         [[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\nservice = \"web\"\n",
        &[(
            7,
            1,
            "load_balancer.idle_timeout",
            "idle_timeout is 0 seconds; it must be 1 to 4000",
        )],
    ),
    case(
        "limit: log retention not an allowed value",
        "app = \"demo\"\n[logs]\nretention_days = 10\n",
        &[(
            3,
            1,
            "logs.retention_days",
            "10 is not a retention period CloudWatch Logs accepts",
        )],
    ),
    case(
        "limit: stop_timeout",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nstop_timeout = 500\n",
        &[(
            4,
            1,
            "services.web.stop_timeout",
            "stop_timeout is 500 seconds; it must be 2 to 120",
        )],
    ),
    case(
        "limit: az_count",
        "app = \"demo\"\n[network]\naz_count = 9\n",
        &[(
            3,
            1,
            "network.az_count",
            "az_count is 9; it must be between 1 and 8",
        )],
    ),
    // ---- references --------------------------------------------------------------------
    case(
        "reference: image repository not declared",
        "app = \"demo\"\n[services.web]\nimage = { repository = \"nope\" }\n",
        &[(
            3,
            11,
            "services.web.image.repository",
            "`nope` is not a key of [repositories]",
        )],
    ),
    case(
        "reference: listener forwards to an unknown service",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80 }\n[load_balancer]\n[[load_balancer.listeners]]\n\
         port = 80\nprotocol = \"HTTP\"\nservice = \"api\"\n",
        &[
            // web's target group is indeed unused then: a true consequence, said once.
            (
                5,
                1,
                "services.web.target_group",
                "target group of service web is not used by any listener",
            ),
            (
                10,
                1,
                "load_balancer.listeners[0].service",
                "`api` is not a key of [services]",
            ),
        ],
    ),
    case(
        "reference: depends_on an unknown service",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ndepends_on = [\"db\"]\n",
        &[(
            4,
            15,
            "services.web.depends_on[0]",
            "unknown dependency `db`: it is not a key of [services]",
        )],
    ),
    case(
        "reference: rule forwards to an unknown service",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80 }\n[load_balancer]\n[[load_balancer.listeners]]\n\
         port = 80\nprotocol = \"HTTP\"\nservice = \"web\"\n\
         [[load_balancer.listeners.rules]]\nservice = \"api\"\npaths = [\"/api/*\"]\n",
        &[(
            12,
            1,
            "load_balancer.listeners[0].rules[0].service",
            "`api` is not a key of [services]",
        )],
    ),
    case(
        "reference: container dependency on an unknown container",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\n\
         container_depends_on = [{ container = \"envoy\" }]\n",
        &[(
            4,
            27,
            "services.web.container_depends_on[0].container",
            "`envoy` is not a container of this task",
        )],
    ),
    // ---- cycles ------------------------------------------------------------------------
    case(
        "cycle: a → b → a",
        "app = \"demo\"\n[services.a]\nimage = \"nginx\"\ndepends_on = [\"b\"]\n\
         [services.b]\nimage = \"nginx\"\ndepends_on = [\"a\"]\n",
        &[(4, 1, "services.a.depends_on", "dependency cycle: a → b → a")],
    )
    .also(ALL),
    case(
        "cycle: a → c → b → a",
        "app = \"demo\"\n[services.a]\nimage = \"nginx\"\ndepends_on = [\"c\"]\n\
         [services.b]\nimage = \"nginx\"\ndepends_on = [\"a\"]\n\
         [services.c]\nimage = \"nginx\"\ndepends_on = [\"b\"]\n",
        &[(
            4,
            1,
            "services.a.depends_on",
            "dependency cycle: a → c → b → a",
        )],
    ),
    case(
        "cycle: a service depending on itself",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ndepends_on = [\"web\"]\n",
        &[(
            4,
            15,
            "services.web.depends_on[0]",
            "services.web depends on itself",
        )],
    ),
    // ---- CIDRs -------------------------------------------------------------------------
    case(
        "cidr: invalid vpc_cidr",
        "app = \"demo\"\n[network]\nvpc_cidr = \"10.0.0.300/16\"\n",
        &[(
            3,
            1,
            "network.vpc_cidr",
            "`10.0.0.300/16` is not an IPv4 CIDR",
        )],
    ),
    case(
        "cidr: vpc_cidr too large",
        "app = \"demo\"\n[network]\nvpc_cidr = \"10.0.0.0/8\"\n",
        &[(3, 1, "network.vpc_cidr", "`10.0.0.0/8` has prefix /8")],
    ),
    case(
        "cidr: subnet outside the VPC",
        "app = \"demo\"\n[network]\nvpc_cidr = \"10.0.0.0/16\"\n\
         public_subnets = [\"10.0.1.0/24\", \"10.1.2.0/24\"]\n",
        &[(
            4,
            34,
            "network.public_subnets[1]",
            "`10.1.2.0/24` is not inside the VPC CIDR 10.0.0.0/16",
        )],
    ),
    case(
        "cidr: overlapping subnets",
        "app = \"demo\"\n[network]\nvpc_cidr = \"10.0.0.0/16\"\n\
         public_subnets = [\"10.0.1.0/24\", \"10.0.1.128/25\"]\n",
        &[(
            4,
            34,
            "network.public_subnets[1]",
            "`10.0.1.128/25` overlaps public_subnets[0] `10.0.1.0/24`",
        )],
    )
    .also(&["up"]),
    case(
        "cidr: invalid ingress source",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         ingress = [{ port = 80, cidrs = [\"0.0.0.0/33\"] }]\n",
        &[(
            5,
            34,
            "services.web.ingress[0].cidrs[0]",
            "`0.0.0.0/33` is not an IPv4 CIDR",
        )],
    ),
    // ---- ports -------------------------------------------------------------------------
    case(
        "port: 0",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80, 0]\n",
        &[(4, 14, "services.web.ports[1]", "port 0 is not a valid port")],
    ),
    case(
        "port: target group port not in ports",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 8080 }\n[load_balancer]\n[[load_balancer.listeners]]\n\
         port = 80\nprotocol = \"HTTP\"\nservice = \"web\"\n",
        &[(
            5,
            18,
            "services.web.target_group.port",
            "port 8080 is not one of the service's ports (80)",
        )],
    ),
    case(
        "port: listed twice",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80, 443, 80]\n",
        &[(
            4,
            19,
            "services.web.ports[2]",
            "port 80 is listed twice (also ports[0])",
        )],
    ),
    case(
        "port: ingress port not in ports",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         ingress = [{ port = 443, cidrs = [\"0.0.0.0/0\"] }]\n",
        &[(
            5,
            14,
            "services.web.ingress[0].port",
            "port 443 is not one of the service's ports (80)",
        )],
    ),
    // ---- names -------------------------------------------------------------------------
    case(
        "name: app with uppercase",
        "app = \"MyApp\"\n",
        &[(
            1,
            1,
            "app",
            "`MyApp` is not a valid app name (it contains `M`)",
        )],
    )
    .also(ALL),
    case(
        "name: app with an underscore",
        "app = \"my_app\"\n",
        &[(
            1,
            1,
            "app",
            "`my_app` is not a valid app name (it contains `_`)",
        )],
    ),
    case(
        "name: app too long",
        "app = \"a-very-long-application-name\"\n",
        &[(
            1,
            1,
            "app",
            "is not a valid app name (it is 28 characters long)",
        )],
    ),
    case(
        "name: invalid service key",
        "app = \"demo\"\n[services.Web_1]\nimage = \"nginx\"\n",
        &[(
            2,
            11,
            "services.Web_1",
            "service key `Web_1` is invalid (it contains `W`)",
        )],
    ),
    case(
        "name: service key too long",
        "app = \"demo\"\n[services.abcdefghijklmnopqrstuvwxyz0123456789]\nimage = \"nginx\"\n",
        &[(
            2,
            11,
            "services.abcdefghijklmnopqrstuvwxyz0123456789",
            "(it is 36 characters long)",
        )],
    ),
    case(
        "name: service name with a space",
        "app = \"demo\"\n[services.web]\nname = \"web service!\"\nimage = \"nginx\"\n",
        &[(
            3,
            1,
            "services.web.name",
            "service name `web service!` contains ` `",
        )],
    ),
    case(
        "name: repository name with uppercase",
        "app = \"demo\"\n[repositories.web]\nname = \"Web//Repo\"\n",
        &[(
            3,
            1,
            "repositories.web.name",
            "`Web//Repo` is not a valid ECR repository name",
        )],
    ),
    case(
        "name: target group name too long",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80, name = \"a-target-group-name-that-is-way-too-long\" }\n\
         [load_balancer]\n[[load_balancer.listeners]]\nport = 80\nprotocol = \"HTTP\"\n\
         service = \"web\"\n",
        &[(
            5,
            29,
            "services.web.target_group.name",
            "is not a valid target group name (it is 40 characters long)",
        )],
    ),
    case(
        "name: region",
        "app = \"demo\"\nregion = \"mars-north-1x\"\n",
        &[(
            2,
            1,
            "region",
            "`mars-north-1x` does not look like an AWS region",
        )],
    ),
    case(
        "name: unknown VPC endpoint",
        "app = \"demo\"\n[network]\nendpoints = [\"s3\", \"redis\"]\n",
        &[(
            3,
            20,
            "network.endpoints[1]",
            "`redis` is not a VPC endpoint ecsdeploy knows",
        )],
    ),
    // ---- ARNs --------------------------------------------------------------------------
    case(
        "arn: certificate with a short account id",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80 }\n[load_balancer]\n[[load_balancer.listeners]]\n\
         port = 443\nprotocol = \"HTTPS\"\ncertificates = [\"arn:aws:acm:us-east-1:123:cert/x\"]\n\
         service = \"web\"\n",
        &[(
            10,
            17,
            "load_balancer.listeners[0].certificates[0]",
            "is not an ACM certificate ARN (`123` is not a 12-digit account id)",
        )],
    )
    .also(&["up"]),
    case(
        "arn: certificate of another service",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80 }\n[load_balancer]\n[[load_balancer.listeners]]\n\
         port = 443\nprotocol = \"HTTPS\"\n\
         certificates = [\"arn:aws:iam::123456789012:server-certificate/x\"]\nservice = \"web\"\n",
        &[(
            10,
            17,
            "load_balancer.listeners[0].certificates[0]",
            "(the service is `iam`, not `acm`)",
        )],
    ),
    case(
        "arn: HTTPS listener without a certificate",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nports = [80]\n\
         target_group = { port = 80 }\n[load_balancer]\n[[load_balancer.listeners]]\n\
         port = 443\nprotocol = \"HTTPS\"\nservice = \"web\"\n",
        &[(
            7,
            1,
            "load_balancer.listeners[0].certificates",
            "an HTTPS listener needs at least one ACM certificate",
        )],
    ),
    case(
        "arn: execution role that is a user",
        "app = \"demo\"\n[iam]\nexecution_role = \"arn:aws:iam::123456789012:user/deployer\"\n",
        &[(
            3,
            1,
            "iam.execution_role",
            "is not an IAM role ARN (the resource does not start with `role/`)",
        )],
    ),
    case(
        "arn: task role that is a bare name",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ntask_role = \"ecsTaskRole\"\n",
        &[(
            4,
            1,
            "services.web.task_role",
            "`ecsTaskRole` is not an IAM role ARN",
        )],
    ),
    // ---- data stores -------------------------------------------------------------------
    case(
        "store: RDS engine that does not exist",
        "app = \"demo\"\n[databases.main]\nengine = \"oracle\"\n",
        &[(
            3,
            10,
            "",
            "unknown variant `oracle`, expected `mysql` or `postgres`",
        )],
    )
    .also(&["up"]),
    case(
        "store: a `uses` entry naming no store",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\n[[services.web.uses]]\nwrite = true\n",
        &[(4, 1, "services.web.uses[0]", "a `uses` entry naming no store")],
    )
    .also(&["up"]),
    case(
        "store: a `uses` entry naming two stores",
        "app = \"demo\"\n[tables.orders]\nhash_key = { name = \"Id\" }\n[databases.main]\n\
         engine = \"postgres\"\n[services.web]\nimage = \"nginx\"\n[[services.web.uses]]\n\
         table = \"orders\"\ndatabase = \"main\"\n",
        &[(
            10,
            1,
            "services.web.uses[0].database",
            "sets both `table` and `database`",
        )],
    ),
    case(
        "store: `uses` an unknown table",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\n[[services.web.uses]]\n\
         table = \"orders\"\n",
        &[(
            5,
            1,
            "services.web.uses[0].table",
            "`orders` is not a key of [tables]",
        )],
    ),
    case(
        "store: `uses` an unknown database",
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\nuses = [{ database = \"main\" }]\n",
        &[(
            4,
            11,
            "services.web.uses[0].database",
            "`main` is not a key of [databases]",
        )],
    ),
    case(
        "store: `uses` an unknown secret",
        "app = \"demo\"\n[secrets.api]\ngenerate = {}\n[services.web]\nimage = \"nginx\"\n\
         uses = [{ secret = \"apikey\" }]\n",
        &[(
            6,
            11,
            "services.web.uses[0].secret",
            "`apikey` is not a key of [secrets]; declared secrets: `api`",
        )],
    ),
    case(
        "store: table grant of another service's action",
        "app = \"demo\"\n[tables.orders]\nhash_key = { name = \"Id\" }\n[services.web]\n\
         image = \"nginx\"\n[[services.web.uses]]\ntable = \"orders\"\n\
         actions = [\"s3:GetObject\"]\n",
        &[(
            8,
            12,
            "services.web.uses[0].actions[0]",
            "`s3:GetObject` is not a DynamoDB action",
        )],
    ),
    case(
        "store: RDS instance class that does not exist",
        "app = \"demo\"\n[databases.main]\nengine = \"postgres\"\ninstance_class = \"db.x9.huge\"\n",
        &[(
            4,
            1,
            "databases.main.instance_class",
            "`db.x9.huge` is not an instance class RDS offers for postgres",
        )],
    )
    .also(&["up"]),
    case(
        "store: seed file missing",
        "app = \"demo\"\n[tables.music]\nhash_key = { name = \"Artist\" }\n\
         seed = \"data/missing.json\"\n",
        &[(4, 1, "tables.music.seed", "cannot read seed file ")],
    )
    .also(ALL),
    case(
        "store: seed file not JSON",
        "app = \"demo\"\n[tables.music]\nhash_key = { name = \"Artist\" }\n\
         seed = \"data/music.json\"\n",
        &[(4, 1, "tables.music.seed", "not valid JSON at line 1")],
    )
    .files(&[("data/music.json", "[{")]),
    // ---- images built from source, task-definition files ---------------------------------
    case(
        "image: tag with build",
        "app = \"demo\"\n[services.web]\nimage = { build = { context = \"web\" }, tag = \"v1\" }\n",
        &[(3, 40, "services.web.image.tag", "cannot be combined with `build`")],
    )
    .files(&[("web/Dockerfile", "FROM scratch\n")]),
    case(
        "image: build context missing",
        "app = \"demo\"\n[services.web]\nimage = { build = { context = \"nowhere\" } }\n",
        &[(
            3,
            21,
            "services.web.image.build.context",
            "is not a directory",
        )],
    ),
    case(
        "task definition: file missing",
        "app = \"demo\"\n[services.web]\ntask_definition = \"web.json\"\n",
        &[(
            3,
            1,
            "services.web.task_definition",
            "cannot read task-definition file",
        )],
    ),
    case(
        "task definition: not JSON",
        "app = \"demo\"\n[services.web]\ntask_definition = \"web.json\"\n",
        &[(
            3,
            1,
            "services.web.task_definition",
            "key must be a string at line 1 column 2",
        )],
    )
    .files(&[("web.json", "{,}")]),
    case(
        "task definition: container keys in TOML too",
        "app = \"demo\"\n[services.web]\ntask_definition = \"web.json\"\ncommand = [\"sh\"]\n",
        &[(
            4,
            1,
            "services.web.command",
            "cannot be combined with `task_definition`",
        )],
    )
    .files(&[(
        "web.json",
        "{\"containerDefinitions\": [{\"name\": \"web\", \"image\": \"nginx\"}]}",
    )]),
    case(
        "store: seed file not a list of items",
        "app = \"demo\"\n[tables.music]\nhash_key = { name = \"Artist\" }\n\
         seed = \"data/music.json\"\n",
        &[(
            4,
            1,
            "tables.music.seed",
            "the requests must be a JSON array",
        )],
    )
    .files(&[("data/music.json", "{\"Artist\": \"A\"}")]),
    case(
        "store: seed file in plain JSON, not DynamoDB JSON",
        "app = \"demo\"\n[tables.music]\nhash_key = { name = \"Artist\" }\n\
         range_key = { name = \"Song\" }\nseed = \"data/music.json\"\n",
        &[(
            5,
            1,
            "tables.music.seed",
            "attribute `Artist`: expected a DynamoDB JSON value such as {\"S\": \"text\"}",
        )],
    )
    .files(&[(
        "data/music.json",
        "[{\"Artist\": \"A\", \"Song\": {\"S\": \"x\"}}]",
    )]),
    case(
        "store: seed item lacking the range key",
        "app = \"demo\"\n[tables.music]\nhash_key = { name = \"Artist\" }\n\
         range_key = { name = \"Song\" }\nseed = \"data/music.json\"\n",
        &[(
            5,
            1,
            "tables.music.seed",
            "item [0]: key attribute `Song` (S) is missing",
        )],
    )
    .files(&[("data/music.json", "[{\"Artist\": {\"S\": \"A\"}}]")]),
];

/// The diagnostic lines of a config error (`  <file>:<line>:<col>: ...`).
fn diagnostics<'a>(stderr: &'a str, file: &str) -> Vec<&'a str> {
    let prefix = format!("  {file}:");
    stderr
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::trim_start)
        .collect()
}

/// Why `out` is not the expected rejection, if it is not.
fn mismatch(expect: &[Expect], file: &str, out: &Output) -> Option<String> {
    if out.code != Some(2) {
        return Some(format!("exit code {:?}, expected 2", out.code));
    }
    if !out.stdout.is_empty() {
        return Some("stdout is not empty".into());
    }
    let n = expect.len();
    let header = format!(
        "invalid configuration ({n} problem{}):",
        if n == 1 { "" } else { "s" }
    );
    if !out.stderr.starts_with(&header) {
        return Some(format!("stderr does not start with {header:?}"));
    }
    let diags = diagnostics(&out.stderr, file);
    if diags.len() != n {
        return Some(format!("{} diagnostics, expected {n}", diags.len()));
    }
    for (d, &(line, col, key, msg)) in diags.iter().zip(expect) {
        let mut want = format!("{file}:{line}:{col}: ");
        if !key.is_empty() {
            want.push_str(key);
            want.push_str(": ");
        }
        if !d.starts_with(&want) {
            return Some(format!("diagnostic {d:?} does not start with {want:?}"));
        }
        if !d.contains(msg) {
            return Some(format!("diagnostic {d:?} does not contain {msg:?}"));
        }
    }
    None
}

/// Writes `case` to a temp dir and runs it; the failures, if any.
async fn check(case: &Case) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in case.files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, case.toml).unwrap();
    let file = path.to_str().unwrap();
    let proxy = Proxy::start(&unique_account()).await;
    let mut failures = Vec::new();
    for cmd in std::iter::once("plan").chain(case.also.iter().copied()) {
        let mut args = vec!["-c", file];
        args.extend(cmd.split_whitespace());
        let out = run_async(&proxy, REGION, &args).await;
        if let Some(why) = mismatch(case.expect, file, &out) {
            failures.push(format!("[{}] `{cmd}`: {why}\n{out}", case.name));
        }
        let calls = proxy.calls();
        if !calls.is_empty() {
            failures.push(format!("[{}] `{cmd}` made AWS calls: {calls:?}", case.name));
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread")]
async fn every_broken_config_is_rejected_with_a_located_error_and_no_aws_call() {
    assert!(CASES.len() >= 45, "{} cases", CASES.len());
    let start = Instant::now();
    let results = join_all(CASES.iter().map(|c| async move {
        let t = Instant::now();
        (check(c).await, t.elapsed())
    }))
    .await;
    let elapsed = start.elapsed();
    let runs: usize = CASES.iter().map(|c| 1 + c.also.len()).sum();
    let slowest = results.iter().map(|(_, t)| *t).max().unwrap_or_default();
    eprintln!(
        "{} cases, {runs} runs in {elapsed:?} (slowest case {slowest:?})",
        CASES.len()
    );
    let failures: Vec<String> = results.into_iter().flat_map(|(f, _)| f).collect();
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

/// Problems from every stage (unknown keys and validation) in one run, sorted by position
/// although the validator finds them in another order (app, network, logs, services).
const SEVERAL: &str = "\
app = \"Demo\"
colour = \"blue\"
[services.web]
image = \"nginx\"
cpu = 300
ports = [80, 80]
depends_on = [\"db\"]
[network]
vpc_cidr = \"10.0.0.0/8\"
[logs]
retention_days = 10
bogus = 1
";

#[tokio::test(flavor = "multi_thread")]
async fn several_independent_errors_are_all_reported_in_one_run_sorted_by_line() {
    let expect: &[Expect] = &[
        (1, 1, "app", "`Demo` is not a valid app name"),
        (2, 1, "colour", "unknown key `colour`"),
        (
            5,
            1,
            "services.web.cpu",
            "cpu 300 is not a Fargate task size",
        ),
        (6, 14, "services.web.ports[1]", "port 80 is listed twice"),
        (
            7,
            15,
            "services.web.depends_on[0]",
            "unknown dependency `db`",
        ),
        (9, 1, "network.vpc_cidr", "has prefix /8"),
        (11, 1, "logs.retention_days", "10 is not a retention period"),
        (12, 1, "logs.bogus", "unknown key `bogus`"),
    ];
    let case = Case {
        name: "several",
        toml: SEVERAL,
        files: &[],
        expect,
        also: &["up"],
    };
    let failures = check(&case).await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs `plan` on `toml` and returns the output and the AWS calls it made.
async fn plan(toml: &str) -> (tempfile::TempDir, String, Output, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecsdeploy.toml");
    std::fs::write(&path, toml).unwrap();
    let file = path.to_str().unwrap().to_string();
    let proxy = Proxy::start(&unique_account()).await;
    let out = run_async(&proxy, REGION, &["-c", &file, "plan"]).await;
    let calls = proxy.calls().len();
    (dir, file, out, calls)
}

/// serde's derived `Deserialize` accepts an array for a struct (fields by position); the
/// loader refuses an array where a table belongs (`deployment = [50, 150]` is not two
/// percentages, `network = []` not the default network).
#[tokio::test(flavor = "multi_thread")]
async fn an_array_for_a_table_is_a_type_error() {
    for toml in [
        "app = \"demo\"\n[services.web]\nimage = \"nginx\"\ndeployment = [50, 150]\n",
        "app = \"demo\"\nnetwork = [\"10.0.0.0/16\"]\n",
        "app = \"demo\"\nlogs = []\n",
    ] {
        let (_dir, file, out, calls) = plan(toml).await;
        assert_eq!(out.code, Some(2), "{toml}\n{out}");
        assert!(out.stderr.contains(&format!("{file}:")), "{out}");
        assert!(out.stderr.contains("sequence"), "{out}");
        assert_eq!(calls, 0);
    }
}

/// A type error and unknown keys come out sorted by line, like every other problem.
#[tokio::test(flavor = "multi_thread")]
async fn a_type_error_and_unknown_keys_are_sorted_by_line() {
    let toml = "app = \"demo\"\ncolour = \"blue\"\n[services.web]\nimage = \"nginx\"\n\
                cpu = \"lots\"\n";
    let (_dir, file, out, calls) = plan(toml).await;
    let expect: &[Expect] = &[
        (2, 1, "colour", "unknown key `colour`"),
        (5, 7, "", "invalid type: string \"lots\", expected u32"),
    ];
    assert_eq!(mismatch(expect, &file, &out), None, "{out}");
    assert_eq!(calls, 0);
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "duplicate case names");
    assert!(Path::new(env!("CARGO_BIN_EXE_ecsdeploy")).exists());
}
