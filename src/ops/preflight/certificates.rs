//! HTTPS listeners' ACM certificates: in the app's region (an ALB takes only certificates
//! of its own region) and `ISSUED` (CreateListener refuses a certificate still pending
//! validation: `CertificateNotFound` / `UnsupportedCertificate`).

use anyhow::Result;

use super::{Finding, Session};
use crate::aws::{code_of, err};

pub async fn check(s: &Session) -> Result<Vec<Finding>> {
    let Some(lb) = &s.config.load_balancer else {
        return Ok(vec![]);
    };
    let region = &s.ctx.aws.region;
    let mut out = Vec::new();
    for (i, l) in lb.listeners.iter().enumerate() {
        for (j, arn) in l.certificates.iter().enumerate() {
            let key = format!("load_balancer.listeners[{i}].certificates[{j}]");
            if let Some(other) = region_of(arn).filter(|r| r != region) {
                out.push(Finding::error(
                    key,
                    format!(
                        "certificate {arn} is in {other}, the app in {region}: a load balancer \
                         takes certificates of its own region only; request or import it in \
                         {region}"
                    ),
                ));
                continue;
            }
            let got = s
                .ctx
                .aws
                .acm
                .describe_certificate()
                .certificate_arn(arn)
                .send()
                .await;
            match got.map_err(err) {
                Ok(d) => {
                    let status = d
                        .certificate()
                        .and_then(|c| c.status())
                        .map_or("UNKNOWN", |st| st.as_str());
                    if status != "ISSUED" {
                        out.push(Finding::error(key, not_issued(arn, status)));
                    }
                }
                Err(e) if code_of(&e) == Some("ResourceNotFoundException") => {
                    out.push(Finding::error(
                        key,
                        format!("certificate {arn} does not exist in {region}"),
                    ));
                }
                Err(e) => return Err(e.context(format!("reading certificate {arn}"))),
            }
        }
    }
    Ok(out)
}

/// `arn:aws:acm:<region>:<account>:certificate/<id>` → the region.
fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

fn not_issued(arn: &str, status: &str) -> String {
    let what = match status {
        "PENDING_VALIDATION" => {
            "still pending validation: add the DNS validation record ACM gives, and wait until \
             it is ISSUED"
        }
        "EXPIRED" => "expired: renew it or request a new one",
        "REVOKED" => "revoked: request a new one",
        "FAILED" | "VALIDATION_TIMED_OUT" => "not issued (validation failed): request it again",
        _ => "not ISSUED, so a listener cannot use it",
    };
    format!("certificate {arn} is {status}, {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_the_arn() {
        assert_eq!(
            region_of("arn:aws:acm:eu-west-1:123456789012:certificate/abc"),
            Some("eu-west-1")
        );
        assert_eq!(region_of("not-an-arn"), None);
        assert!(not_issued("a", "PENDING_VALIDATION").contains("DNS validation record"));
    }
}
