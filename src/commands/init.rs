//! `ecsdeploy init`: write a commented starter config. Asks a few questions on a terminal
//! (questions on stderr, answers on stdin); flags answer them for scripts, and without a
//! terminal the defaults are used (and said).

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::InitArgs;
use crate::config::validate::MAX_APP_LEN;

/// What the starter config is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub app: String,
    pub image: String,
    pub port: u16,
    pub load_balancer: bool,
    pub arm64: bool,
}

pub const DEFAULT_IMAGE: &str = "public.ecr.aws/nginx/nginx:stable";
pub const DEFAULT_PORT: u16 = 80;

/// A valid app name made from a directory name: lowercase letters, digits and single
/// hyphens, starting with a letter, at most the app-name limit; `app` if nothing is left.
pub fn app_name_from(dir: &str) -> String {
    crate::config::slug(dir, MAX_APP_LEN, "app")
}

/// Ask for what the flags left open. `input` and `prompt` are the terminal (stdin,
/// stderr) in real use, buffers in tests.
pub fn ask(
    a: &InitArgs,
    default_app: &str,
    input: &mut dyn BufRead,
    prompt: &mut dyn Write,
) -> Result<Answers> {
    let mut question = |q: &str, default: &str| -> Result<String> {
        write!(prompt, "{q} [{default}]: ")?;
        prompt.flush()?;
        let mut line = String::new();
        input.read_line(&mut line)?;
        let line = line.trim();
        Ok(if line.is_empty() {
            default.to_string()
        } else {
            line.to_string()
        })
    };
    let app = match &a.app {
        Some(app) => app.clone(),
        None => question("App name (prefix of every AWS name)", default_app)?,
    };
    let image = match &a.image {
        Some(i) => i.clone(),
        None => question("Container image", DEFAULT_IMAGE)?,
    };
    let mut bad_port = false;
    let port = match a.port {
        Some(p) => p,
        None => loop {
            let q = if bad_port {
                "A port is a number from 1 to 65535. Container port"
            } else {
                "Container port"
            };
            let p = question(q, &DEFAULT_PORT.to_string())?;
            match p.parse::<u16>() {
                Ok(p) if p > 0 => break p,
                _ => {
                    // Said through the next question's prompt: `question` holds `prompt`.
                    bad_port = true;
                }
            }
        },
    };
    let load_balancer = if a.load_balancer || a.no_load_balancer {
        a.load_balancer
    } else {
        let yes = question("Put an Application Load Balancer in front? (y/n)", "y")?;
        yes.to_lowercase().starts_with('y')
    };
    let arm64 = a.arm64 || {
        let arch = question("CPU architecture (x86_64/arm64)", "x86_64")?;
        arch.eq_ignore_ascii_case("arm64")
    };
    Ok(Answers {
        app,
        image,
        port,
        load_balancer,
        arm64,
    })
}

/// The defaults, with the flags applied (no questions).
pub fn defaults(a: &InitArgs, default_app: &str) -> Answers {
    Answers {
        app: a.app.clone().unwrap_or_else(|| default_app.to_string()),
        image: a.image.clone().unwrap_or_else(|| DEFAULT_IMAGE.to_string()),
        port: a.port.unwrap_or(DEFAULT_PORT),
        load_balancer: !a.no_load_balancer,
        arm64: a.arm64,
    }
}

/// The starter config with `region` set, when `--region` gave one (otherwise the key
/// stays a comment, and the AWS chain decides).
pub fn with_region(text: &str, region: Option<&str>) -> String {
    match region {
        Some(r) => text.replacen(
            "# region = \"us-east-1\"\n",
            &format!("region = \"{}\"\n", r.replace(['"', '\\'], "")),
            1,
        ),
        None => text.to_string(),
    }
}

/// The starter config, commented.
pub fn render(x: &Answers) -> String {
    let arch = if x.arm64 { "ARM64" } else { "X86_64" };
    let mut s = format!(
        r#"# ecsdeploy configuration. Every key is described in docs/configuration.md;
# `ecsdeploy validate` checks this file offline, `ecsdeploy plan` shows what `up` would do.

# Prefix of every AWS name ecsdeploy creates, and the value of its ownership tag.
app = "{app}"
# The region: this key, --region, AWS_REGION or your profile's region.
# region = "us-east-1"

# One ECS service on Fargate. More services: more [services.<name>] sections.
[services.web]
image = "{image}"
# Or build it from source with docker buildx, push it to ECR and deploy it by digest:
# image = {{ build = {{ context = "." }} }}
cpu = 256                      # 1024 = 1 vCPU; memory defaults to twice cpu (MiB)
cpu_architecture = "{arch}"
ports = [{port}]
desired_count = 1
# Plain environment variables; secrets belong in [secrets.*] and `uses`.
# environment = {{ LOG_LEVEL = "info" }}
"#,
        app = x.app,
        image = x.image,
        port = x.port,
    );
    if x.load_balancer {
        s.push_str(&format!(
            r#"# Reached through the load balancer only (its security group admits the ALB).
target_group = {{ port = {port}, health_check = {{ path = "/" }} }}

[load_balancer]

[[load_balancer.listeners]]
port = 80
protocol = "HTTP"
service = "web"
# HTTPS instead: port = 443, protocol = "HTTPS", certificates = ["arn:aws:acm:..."],
# plus a listener on 80 with redirect_https_port = 443.
"#,
            port = x.port
        ));
    } else {
        s.push_str(&format!(
            r#"# Tasks get public IPs; open the port to the world (narrow the CIDRs if you can).
ingress = [{{ port = {port}, cidrs = ["0.0.0.0/0"] }}]
"#,
            port = x.port
        ));
    }
    s
}

/// A usage error when `path` exists and `--force` was not given: `init` never overwrites a
/// file silently.
pub fn refuse_overwrite(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(crate::error::UsageError(format!(
            "{} exists; pass --force to overwrite it, or --config to write elsewhere",
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// Writes the file; returns the answers used and whether questions were asked.
pub fn run(path: &Path, a: &InitArgs, region: Option<&str>) -> Result<String> {
    refuse_overwrite(path, a.force)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let dir = cwd
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let default_app = app_name_from(&dir);
    use std::io::IsTerminal;
    let answers = if a.yes || !std::io::stdin().is_terminal() {
        let x = defaults(a, &default_app);
        if !a.yes {
            eprintln!(
                "stdin is not a terminal: using app = {:?}, image = {:?}, port {}, {}, {} \
                 (pass flags to choose)",
                x.app,
                x.image,
                x.port,
                if x.load_balancer {
                    "a load balancer"
                } else {
                    "no load balancer"
                },
                if x.arm64 { "ARM64" } else { "X86_64" }
            );
        }
        x
    } else {
        let stdin = std::io::stdin();
        ask(a, &default_app, &mut stdin.lock(), &mut std::io::stderr())?
    };
    let text = with_region(&render(&answers), region);
    crate::config::load_str(&text, path).map_err(|e| {
        anyhow::anyhow!("the answers do not make a valid config (nothing was written):\n{e}")
    })?;
    std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    Ok(format!(
        "wrote {}: app {}, service web ({}). Next: `ecsdeploy validate`, `ecsdeploy plan`, \
         `ecsdeploy up`.",
        path.display(),
        answers.app,
        answers.image
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_region_given_is_written() {
        let x = defaults(&InitArgs::default(), "demo");
        let text = with_region(&render(&x), Some("eu-west-3"));
        let c = crate::config::load_str(&text, Path::new("t.toml"))
            .unwrap()
            .config;
        assert_eq!(c.region.as_deref(), Some("eu-west-3"));
        let text = with_region(&render(&x), None);
        let c = crate::config::load_str(&text, Path::new("t.toml"))
            .unwrap()
            .config;
        assert_eq!(c.region, None);
    }

    use super::*;

    fn args() -> InitArgs {
        InitArgs {
            app: None,
            image: None,
            port: None,
            load_balancer: false,
            no_load_balancer: false,
            arm64: false,
            yes: false,
            force: false,
            from_copilot: None,
            from_service: None,
        }
    }

    #[test]
    fn app_names_from_directory_names() {
        assert_eq!(app_name_from("My_Cool App!"), "my-cool-app");
        assert_eq!(app_name_from("2048-game"), "game");
        assert_eq!(app_name_from("___"), "app");
        assert!(app_name_from("a-very-long-directory-name-indeed").len() <= MAX_APP_LEN);
    }

    #[test]
    fn questions_take_answers_and_defaults() {
        let mut input: &[u8] = b"shop\n\nabc\n8080\nn\narm64\n";
        let mut prompt = Vec::new();
        let x = ask(&args(), "dir", &mut input, &mut prompt).unwrap();
        assert_eq!(
            x,
            Answers {
                app: "shop".into(),
                image: DEFAULT_IMAGE.into(),
                port: 8080,
                load_balancer: false,
                arm64: true,
            }
        );
        let prompt = String::from_utf8(prompt).unwrap();
        assert!(prompt.contains("Container port [80]"), "{prompt}");
        assert!(prompt.contains("A port is a number"), "{prompt}");
    }

    #[test]
    fn flags_skip_their_questions() {
        let mut a = args();
        a.app = Some("x".into());
        a.image = Some("nginx".into());
        a.port = Some(81);
        a.no_load_balancer = true;
        a.arm64 = true;
        let mut input: &[u8] = b"";
        let mut prompt = Vec::new();
        let x = ask(&a, "dir", &mut input, &mut prompt).unwrap();
        assert!(prompt.is_empty());
        assert_eq!((x.port, x.load_balancer, x.arm64), (81, false, true));
    }

    #[test]
    fn every_starter_config_is_valid() {
        for lb in [true, false] {
            for arm64 in [true, false] {
                let x = Answers {
                    app: "demo".into(),
                    image: "nginx:1.27".into(),
                    port: 8080,
                    load_balancer: lb,
                    arm64,
                };
                let text = render(&x);
                let loaded = crate::config::load_str(&text, Path::new("ecsdeploy.toml"))
                    .unwrap_or_else(|e| panic!("{e}\n{text}"));
                let web = &loaded.config.services["web"];
                assert_eq!(web.ports, vec![8080]);
                assert_eq!(web.target_group.is_some(), lb);
                assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
            }
        }
    }
}
