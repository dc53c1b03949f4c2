//! The per-app run lock: two `up`/`down` runs on the same app (same account and region)
//! never interleave; the second fails fast (exit code 3) naming who holds the lock.
//!
//! The lock is an item in the DynamoDB table [`TABLE`], which ecsdeploy owns (created on
//! first use, on-demand billing, tagged `ecsdeploy:managed=true` and never `ecsdeploy:app`,
//! so no app's `down` sees it). The item's key is the app name. Taking it is one PutItem
//! conditioned on "no item, or an expired one"; the holder renews its lease every third of
//! the lease (UpdateItem conditioned on its random token) and deletes the item at the end
//! (DeleteItem conditioned on the token). A run killed outright leaves an item that expires
//! with its lease (60 s, or `ECSDEPLOY_LOCK_LEASE_SECS`). A run that finds its lock taken
//! over (renewal refused) cancels itself like a Ctrl-C and fails. `--force-unlock` deletes
//! the item unconditionally first. `plan` and `status` take no lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType, TableStatus, Tag,
};
use aws_sdk_dynamodb::Client;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::aws::{code, err};
use crate::error::{Interrupted, Locked, UsageError};
use crate::report::Reporter;

/// The lock table, shared by every app of the account and region.
pub const TABLE: &str = "ecsdeploy-locks";
/// The table's hash key (string): the app name.
pub const KEY: &str = "lock_id";
/// Overrides the lease, in whole seconds (tests use short ones).
pub const LEASE_ENV: &str = "ECSDEPLOY_LOCK_LEASE_SECS";
/// How long a lock stays valid without renewal.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// Tag marking the table as ecsdeploy's own (not any app's).
const TAG_MANAGED: &str = "ecsdeploy:managed";
/// How long a freshly created lock table may take to become ACTIVE.
const TABLE_ACTIVE_WAIT: Duration = Duration::from_secs(120);
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";

/// What a lock item says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// `user@host`
    pub holder: String,
    pub pid: u32,
    /// `up` or `down`
    pub command: String,
    pub version: String,
    /// Unix seconds.
    pub acquired_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Holder {
    fn from_item(item: &HashMap<String, AttributeValue>) -> Holder {
        let s = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_else(|| "unknown".into())
        };
        let n = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let acquired_at = item
            .get("acquired_at")
            .and_then(|v| v.as_s().ok())
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
            .map_or(0, epoch);
        Holder {
            holder: s("holder"),
            pid: u32::try_from(n("pid")).unwrap_or(0),
            command: s("command"),
            version: s("version"),
            acquired_at,
            expires_at: n("expires_at"),
        }
    }

    /// Whether the lease ran out at `now` (Unix seconds): the same test as the PutItem
    /// condition `expires_at < :now`.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at < now
    }

    /// `user@host (pid N, ecsdeploy up) since <RFC3339> (<ago> ago)`
    pub fn describe(&self, now: i64) -> String {
        let since = UNIX_EPOCH + Duration::from_secs(u64::try_from(self.acquired_at).unwrap_or(0));
        let ago = Duration::from_secs(u64::try_from(now - self.acquired_at).unwrap_or(0));
        format!(
            "{} (pid {}, ecsdeploy {}) since {} ({} ago)",
            self.holder,
            self.pid,
            self.command,
            humantime::format_rfc3339_seconds(since),
            humantime::format_duration(ago)
        )
    }
}

/// The message of [`Locked`].
pub fn locked_message(app: &str, h: &Holder, now: i64) -> String {
    format!(
        "app {app} is locked by {}; the lock expires in {}s if that run died; use \
         --force-unlock to take it over",
        h.describe(now),
        (h.expires_at - now).max(0)
    )
}

/// The lease: [`DEFAULT_LEASE`], or `ECSDEPLOY_LOCK_LEASE_SECS` whole seconds (≥ 1).
pub fn lease_from_env() -> Result<Duration> {
    match std::env::var(LEASE_ENV) {
        Err(_) => Ok(DEFAULT_LEASE),
        Ok(v) => parse_lease(&v).ok_or_else(|| {
            UsageError(format!(
                "{LEASE_ENV}={v:?}: expected a whole number of seconds, at least 1"
            ))
            .into()
        }),
    }
}

fn parse_lease(v: &str) -> Option<Duration> {
    v.trim()
        .parse::<u64>()
        .ok()
        .filter(|s| *s >= 1)
        .map(Duration::from_secs)
}

/// A held lock. Renewed in the background until [`Lock::release`].
pub struct Lock {
    client: Client,
    app: String,
    token: String,
    lease: Duration,
    /// Why the lock was lost, once it was.
    lost: Arc<Mutex<Option<String>>>,
    renewer: tokio::task::JoinHandle<()>,
    report: Arc<dyn Reporter>,
}

/// Take the lock on `app` for `command` (`up`/`down`), first deleting whatever lock there is
/// when `force`. Fails with [`Locked`] when another unexpired run holds it. Losing the lock
/// later sends `true` on `cancel`.
pub async fn acquire(
    client: &Client,
    app: &str,
    command: &str,
    force: bool,
    lease: Duration,
    cancel: Arc<watch::Sender<bool>>,
    report: Arc<dyn Reporter>,
) -> Result<Lock> {
    if force {
        force_unlock(client, app, report.as_ref()).await?;
    }
    let token = new_token();
    let mut created = false;
    // A few rounds: the item may vanish or expire between the PutItem and the GetItem.
    for _ in 0..5 {
        let now = now_secs();
        let put = client
            .put_item()
            .table_name(TABLE)
            .set_item(Some(item(app, command, &token, now, lease)))
            .condition_expression("attribute_not_exists(lock_id) OR expires_at < :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(held(client, app, token, lease, cancel, report)),
            Err(e) if code(&e) == Some("ResourceNotFoundException") && !created => {
                create_table(client).await?;
                created = true;
            }
            Err(e) if code(&e) == Some(CONDITION_FAILED) => match lock_item(client, app).await? {
                // Our own PutItem went through but its answer was lost, and the SDK's retry
                // then found our item: the lock is ours.
                Some(it) if token_of(&it) == Some(token.as_str()) => {
                    return Ok(held(client, app, token, lease, cancel, report));
                }
                Some(it) => {
                    let h = Holder::from_item(&it);
                    let now = now_secs();
                    if !h.expired(now) {
                        return Err(Locked(locked_message(app, &h, now)).into());
                    }
                }
                None => {}
            },
            Err(e) => {
                return Err(err(e)).with_context(|| format!("taking the lock on app {app}"));
            }
        }
    }
    anyhow::bail!("could not take the lock on app {app}: it kept changing hands; try again")
}

/// The lock is ours: start renewing it.
fn held(
    client: &Client,
    app: &str,
    token: String,
    lease: Duration,
    cancel: Arc<watch::Sender<bool>>,
    report: Arc<dyn Reporter>,
) -> Lock {
    let lost = Arc::new(Mutex::new(None));
    let renewer = tokio::spawn(renew_loop(
        client.clone(),
        app.to_string(),
        token.clone(),
        lease,
        lost.clone(),
        cancel,
        report.clone(),
    ));
    Lock {
        client: client.clone(),
        app: app.to_string(),
        token,
        lease,
        lost,
        renewer,
        report,
    }
}

/// Delete the lock item of `app` whoever holds it, saying whose it was.
pub async fn force_unlock(client: &Client, app: &str, report: &dyn Reporter) -> Result<()> {
    let out = client
        .delete_item()
        .table_name(TABLE)
        .key(KEY, AttributeValue::S(app.to_string()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await;
    let old = match out {
        Ok(o) => o.attributes,
        Err(e) if code(&e) == Some("ResourceNotFoundException") => None,
        Err(e) => {
            return Err(err(e)).with_context(|| format!("removing the lock on app {app}"));
        }
    };
    match old.filter(|a| !a.is_empty()) {
        Some(item) => report.warn(&format!(
            "--force-unlock: removed the lock on app {app} held by {}",
            Holder::from_item(&item).describe(now_secs())
        )),
        None => report.warn(&format!("--force-unlock: app {app} was not locked")),
    }
    Ok(())
}

impl Lock {
    /// What releases this lock without it (see [`Releaser`]).
    pub fn releaser(&self) -> Releaser {
        Releaser {
            client: self.client.clone(),
            app: self.app.clone(),
            token: self.token.clone(),
        }
    }

    /// Stop renewing and delete the lock item (only if it still is ours). A run that lost
    /// its lock fails, whatever its own result; a failed delete is only a warning (the
    /// lock then expires with its lease).
    pub async fn release<T>(self, result: Result<T>) -> Result<T> {
        self.renewer.abort();
        let lost = self.lost.lock().unwrap().take();
        if let Some(why) = lost {
            let e = anyhow::anyhow!(
                "lost the lock on app {}: {why}; another run may be changing the app now — \
                 check with `ecsdeploy status` before running again",
                self.app
            );
            return Err(match result {
                Err(inner) if inner.downcast_ref::<Interrupted>().is_none() => {
                    e.context(format!("{inner:#}"))
                }
                _ => e,
            });
        }
        let del = self.releaser().delete().await;
        if let Err(e) = del {
            if code(&e) == Some(CONDITION_FAILED) {
                // Gone already: the SDK retried a delete whose answer was lost.
                if let Ok(None) = lock_item(&self.client, &self.app).await {
                    return result;
                }
                self.report.warn(&format!(
                    "the lock on app {} was taken over before this run released it (its lease \
                     had expired, or --force-unlock); another run may be changing the app now",
                    self.app
                ));
            } else {
                self.report.warn(&format!(
                    "could not release the lock on app {}: {}; it expires within {}s",
                    self.app,
                    crate::aws::describe(&e),
                    self.lease.as_secs()
                ));
            }
        }
        result
    }
}

/// What releasing a lock needs, apart from the lock: for a second Ctrl-C, which exits at
/// once without waiting for the run to unwind.
#[derive(Clone)]
pub struct Releaser {
    client: Client,
    app: String,
    token: String,
}

impl Releaser {
    /// Delete the lock item if it still is ours.
    async fn delete(
        &self,
    ) -> Result<
        (),
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::delete_item::DeleteItemError,
        >,
    > {
        self.client
            .delete_item()
            .table_name(TABLE)
            .key(KEY, AttributeValue::S(self.app.clone()))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", AttributeValue::S(self.token.clone()))
            .send()
            .await
            .map(|_| ())
    }

    /// Release now, giving up after `within` (the lease then ends it): what a second
    /// Ctrl-C does on its way out. Says so when it could not.
    pub async fn release_now(&self, within: Duration) {
        match tokio::time::timeout(within, self.delete()).await {
            Ok(Ok(())) => {}
            // Not ours any more: nothing to release.
            Ok(Err(e)) if code(&e) == Some(CONDITION_FAILED) => {}
            Ok(Err(e)) => eprintln!(
                "warning: could not release the lock on app {}: {}",
                self.app,
                crate::aws::describe(&e)
            ),
            Err(_) => eprintln!(
                "warning: could not release the lock on app {} within {}s; it expires with \
                 its lease",
                self.app,
                within.as_secs()
            ),
        }
    }
}

async fn renew_loop(
    client: Client,
    app: String,
    token: String,
    lease: Duration,
    lost: Arc<Mutex<Option<String>>>,
    cancel: Arc<watch::Sender<bool>>,
    report: Arc<dyn Reporter>,
) {
    let mut valid_until = now_secs() + secs(lease);
    loop {
        tokio::time::sleep(lease / 3).await;
        let now = now_secs();
        let renewed = client
            .update_item()
            .table_name(TABLE)
            .key(KEY, AttributeValue::S(app.clone()))
            .update_expression("SET expires_at = :expires")
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", AttributeValue::S(token.clone()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((now + secs(lease)).to_string()),
            )
            .send()
            .await;
        let why = match renewed {
            Ok(_) => {
                valid_until = now + secs(lease);
                continue;
            }
            Err(e) if code(&e) == Some(CONDITION_FAILED) => {
                "another run took it over (its lease had expired, or --force-unlock)".to_string()
            }
            Err(e) if now_secs() >= valid_until => format!(
                "it expired while renewing failed: {}",
                crate::aws::describe(&e)
            ),
            Err(e) => {
                report.warn(&format!(
                    "could not renew the lock on app {app} (retrying): {}",
                    crate::aws::describe(&e)
                ));
                continue;
            }
        };
        report.warn(&format!(
            "lost the lock on app {app}: {why}; stopping (no new step starts)"
        ));
        *lost.lock().unwrap() = Some(why);
        let _ = cancel.send(true);
        return;
    }
}

/// The token of a lock item.
fn token_of(item: &HashMap<String, AttributeValue>) -> Option<&str> {
    item.get("token")
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// `app`'s lock item (consistent read), if any.
async fn lock_item(client: &Client, app: &str) -> Result<Option<HashMap<String, AttributeValue>>> {
    let out = client
        .get_item()
        .table_name(TABLE)
        .key(KEY, AttributeValue::S(app.to_string()))
        .consistent_read(true)
        .send()
        .await
        .map_err(err)
        .with_context(|| format!("reading the lock on app {app}"))?;
    Ok(out.item)
}

/// Create the lock table and wait until it is ACTIVE; a concurrent creator is fine.
async fn create_table(client: &Client) -> Result<()> {
    let created = client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(KEY)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(KEY)
                .key_type(KeyType::Hash)
                .build()?,
        )
        .tags(Tag::builder().key(TAG_MANAGED).value("true").build()?)
        .send()
        .await;
    if let Err(e) = created {
        if code(&e) != Some("ResourceInUseException") {
            return Err(err(e)).context(format!("creating the lock table {TABLE}"));
        }
    }
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_WAIT;
    let mut pause = Duration::from_millis(200);
    loop {
        let out = client.describe_table().table_name(TABLE).send().await;
        match out {
            Ok(o) if o.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) => {
                return Ok(())
            }
            Ok(_) => {}
            Err(e) if code(&e) == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(err(e)).context(format!("waiting for the lock table {TABLE}")),
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "the lock table {TABLE} did not become ACTIVE within {TABLE_ACTIVE_WAIT:?}"
            );
        }
        // Ctrl-C ends the wait (the table keeps being created; the next run uses it).
        if crate::aws::sleep_unless_interrupted(crate::aws::jitter(pause))
            .await
            .is_err()
        {
            eprintln!(
                "interrupted while waiting for the lock table {TABLE} to become ACTIVE; \
                 DynamoDB goes on creating it, and the next run uses it"
            );
            return Err(crate::error::Interrupted.into());
        }
        pause = (pause * 2).min(Duration::from_secs(3));
    }
}

fn item(
    app: &str,
    command: &str,
    token: &str,
    now: i64,
    lease: Duration,
) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: i64| AttributeValue::N(v.to_string());
    let acquired = UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
    HashMap::from([
        (KEY.to_string(), s(app)),
        ("holder".to_string(), s(&holder_name())),
        ("pid".to_string(), n(i64::from(std::process::id()))),
        ("command".to_string(), s(command)),
        ("version".to_string(), s(env!("CARGO_PKG_VERSION"))),
        (
            "acquired_at".to_string(),
            s(&humantime::format_rfc3339_seconds(acquired).to_string()),
        ),
        ("expires_at".to_string(), n(now + secs(lease))),
        ("token".to_string(), s(token)),
    ])
}

/// `user@host`
fn holder_name() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(user_from_uid)
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{}", host_name())
}

/// The login name of this process's uid (Linux; e.g. in containers, where `USER` is unset).
fn user_from_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd_name(&passwd, &uid)
}

/// The name of `uid` in an /etc/passwd text.
fn passwd_name(passwd: &str, uid: &str) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid && !name.is_empty()).then(|| name.to_string())
    })
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// A token no other run shares: sha256 of pid, time (ns), host and a stack address.
fn new_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let marker = 0u8;
    let seed = format!(
        "{}:{nanos}:{}:{:p}",
        std::process::id(),
        host_name(),
        &marker
    );
    Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_secs() -> i64 {
    epoch(SystemTime::now())
}

fn epoch(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder_at(acquired_at: i64, expires_at: i64) -> Holder {
        Holder {
            holder: "alice@build-1".into(),
            pid: 4242,
            command: "up".into(),
            version: "0.1.0".into(),
            acquired_at,
            expires_at,
        }
    }

    #[test]
    fn locked_message_names_holder_time_and_expiry() {
        // 2024-01-02T03:04:05Z
        let t = 1_704_164_645;
        let msg = locked_message("shop", &holder_at(t, t + 60), t + 25);
        assert_eq!(
            msg,
            "app shop is locked by alice@build-1 (pid 4242, ecsdeploy up) since \
             2024-01-02T03:04:05Z (25s ago); the lock expires in 35s if that run died; use \
             --force-unlock to take it over"
        );
    }

    #[test]
    fn passwd_lookup_finds_the_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nci:x:1001:1001::/home/ci:/bin/sh\n";
        assert_eq!(passwd_name(passwd, "1001").as_deref(), Some("ci"));
        assert_eq!(passwd_name(passwd, "0").as_deref(), Some("root"));
        assert_eq!(passwd_name(passwd, "7"), None);
    }

    #[test]
    fn expiry_matches_the_put_condition() {
        let h = holder_at(100, 160);
        assert!(!h.expired(159));
        assert!(!h.expired(160), "expires_at < now, strictly");
        assert!(h.expired(161));
        assert!(locked_message("a", &h, 170).contains("expires in 0s"));
    }

    #[test]
    fn item_round_trips_into_a_holder() {
        let it = item(
            "shop",
            "down",
            "tok",
            1_704_164_645,
            Duration::from_secs(60),
        );
        let h = Holder::from_item(&it);
        assert_eq!(h.command, "down");
        assert_eq!(h.pid, std::process::id());
        assert_eq!(h.acquired_at, 1_704_164_645);
        assert_eq!(h.expires_at, 1_704_164_705);
        assert!(h.holder.contains('@'));
    }

    #[test]
    fn lease_parsing() {
        assert_eq!(parse_lease("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_lease(" 90 "), Some(Duration::from_secs(90)));
        assert_eq!(parse_lease("0"), None);
        assert_eq!(parse_lease("1.5"), None);
        assert_eq!(parse_lease("soon"), None);
    }

    #[test]
    fn tokens_are_hex_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
