//! Cognito sign-in on listeners: the user pool and its app client must exist (the ALB's
//! authenticate-cognito action is refused otherwise, after the load balancer exists).

use anyhow::Result;

use super::{Finding, Session};
use crate::aws::{code_of, err};

pub async fn check(s: &Session) -> Result<Vec<Finding>> {
    let Some(lb) = &s.config.load_balancer else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for (i, l) in lb.listeners.iter().enumerate() {
        let Some(c) = &l.cognito else {
            continue;
        };
        let key = format!("load_balancer.listeners[{i}].cognito");
        let Some(pool) = pool_id(&c.user_pool_arn) else {
            continue;
        };
        let idp = &s.ctx.aws.cognito;
        let got = idp
            .describe_user_pool_client()
            .user_pool_id(pool)
            .client_id(&c.client_id)
            .send()
            .await
            .map_err(err);
        match got {
            Ok(_) => {}
            Err(e) if code_of(&e) == Some("ResourceNotFoundException") => {
                // Which of the two is missing: the pool, or only the client.
                let pool_there = idp.describe_user_pool().user_pool_id(pool).send().await;
                let message = match pool_there.map_err(err) {
                    Ok(_) => format!(
                        "user pool {pool} has no app client {}; create one (with a client \
                         secret and the OAuth flow `code`) or fix client_id",
                        c.client_id
                    ),
                    Err(e) if code_of(&e) == Some("ResourceNotFoundException") => format!(
                        "user pool {} does not exist in this account and region",
                        c.user_pool_arn
                    ),
                    Err(e) => return Err(e.context(format!("reading user pool {pool}"))),
                };
                out.push(Finding::error(key, message));
            }
            Err(e) => return Err(e.context(format!("reading user pool {pool}"))),
        }
    }
    Ok(out)
}

/// `arn:aws:cognito-idp:<region>:<account>:userpool/<id>` → `<id>`.
fn pool_id(arn: &str) -> Option<&str> {
    arn.split_once(":userpool/").map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pool_id_is_read_from_the_arn() {
        assert_eq!(
            super::pool_id("arn:aws:cognito-idp:us-east-1:1:userpool/us-east-1_AbC"),
            Some("us-east-1_AbC")
        );
    }
}
