//! One notice while the SDK retries a call it could not send. Connection errors are
//! retried like throttling (eight attempts, adaptive backoff: about 40 s), so a wrong
//! endpoint or a missing network would otherwise look like a hang before the error.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// A function that shows one line to the user.
pub type Line = Arc<dyn Fn(&str) + Send + Sync>;

/// Where the notice goes (the run's reporter, as a warning); `None`: standard error.
#[derive(Clone, Default)]
pub struct Say(pub Option<Line>);

impl fmt::Debug for Say {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Say(reporter)"
        } else {
            "Say(stderr)"
        })
    }
}

/// The interceptor every client of one [`super::Clients`] shares: the first attempt that
/// fails to connect, in any of them, says so once.
#[derive(Debug, Clone, Default)]
pub struct Unreachable {
    say: Say,
    said: Arc<AtomicBool>,
}

impl Unreachable {
    pub fn new(say: Say) -> Unreachable {
        Unreachable {
            say,
            said: Arc::default(),
        }
    }

    /// The notice, once for all the clients that share this interceptor (one
    /// [`super::Clients`], so once a run); false when it was said already.
    fn once(&self, why: &str) -> bool {
        if self.said.swap(true, Ordering::Relaxed) {
            return false;
        }
        let message = notice(why);
        match &self.say.0 {
            Some(say) => say(&message),
            None => eprintln!("warning: {message}"),
        }
        true
    }
}

/// What the user reads while the SDK keeps trying.
pub fn notice(why: &str) -> String {
    format!(
        "AWS could not be reached ({why}); retrying for up to about 40 s: check the network, \
         any HTTPS proxy settings, and AWS_ENDPOINT_URL / --endpoint-url if set"
    )
}

/// An error and its causes on one line: `io error: client error (Connect): tcp connect
/// error: Connection refused (os error 111)`.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        parts.push(cause.to_string());
        next = cause.source();
    }
    parts.join(": ")
}

impl Intercept for Unreachable {
    fn name(&self) -> &'static str {
        "ecsdeploy::aws::Unreachable"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Err(e)) = context.output_or_error() {
            if let Some(c) = e.as_connector_error() {
                self.once(&chain(c));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn says_it_once_for_all_clients() {
        let heard = Arc::new(Mutex::new(Vec::<String>::new()));
        let h = heard.clone();
        let u = Unreachable::new(Say(Some(Arc::new(move |m: &str| {
            h.lock().unwrap().push(m.to_string())
        }))));
        let other_client = u.clone();
        assert!(u.once("connection refused"));
        assert!(!other_client.once("connection refused"));
        assert_eq!(*heard.lock().unwrap(), vec![notice("connection refused")]);
    }
}
