//! Seeding a table: its seed items (parsed and checked when the config was loaded) written
//! with BatchWriteItem, 25 at a time, unprocessed items sent again; then the
//! `ecsdeploy:seeded` tag.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, Tag, WriteRequest};
use aws_smithy_types::Blob;

use super::TAG_SEEDED;
use crate::aws::{answer, err};
use crate::config::{SeedItem, SeedValue};
use crate::desired::SeedSpec;
use crate::steps::Ctx;

/// BatchWriteItem takes at most 25 requests.
const BATCH: usize = 25;

/// How many times one batch is sent while DynamoDB leaves items unprocessed.
const BATCH_ATTEMPTS: u32 = 10;

/// Write the seed items, then tag the table as seeded.
pub(super) async fn seed_table(
    ctx: &Ctx,
    key: &str,
    name: &str,
    arn: &str,
    seed: &SeedSpec,
) -> Result<()> {
    let items: Vec<HashMap<String, AttributeValue>> = seed.items.iter().map(item_of).collect();
    let total = items.len();
    let mut written = 0;
    for chunk in items.chunks(BATCH) {
        let requests = chunk
            .iter()
            .map(|item| {
                Ok(WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item.clone())).build()?)
                    .build())
            })
            .collect::<Result<Vec<_>>>()?;
        write_batch(
            requests,
            BATCH_ATTEMPTS,
            Duration::from_millis(200),
            |reqs| async move {
                let call = ctx
                    .aws
                    .dynamodb
                    .batch_write_item()
                    .request_items(name, reqs);
                let out = answer(call.send()).await?;
                Ok(out
                    .unprocessed_items()
                    .and_then(|u| u.get(name))
                    .cloned()
                    .unwrap_or_default())
            },
        )
        .await
        .with_context(|| {
            format!(
                "seeding table {name} from {} (items {}..{} of {total}); run the command \
                 again to write the seed again",
                seed.file,
                written,
                written + chunk.len()
            )
        })?;
        written += chunk.len();
        ctx.report
            .progress(key, &format!("seeding: {written}/{total} items"));
    }
    ctx.aws
        .dynamodb
        .tag_resource()
        .resource_arn(arn)
        .tags(Tag::builder().key(TAG_SEEDED).value(&seed.digest).build()?)
        .send()
        .await
        .map_err(err)
        .with_context(|| format!("tagging table {name} as seeded"))?;
    Ok(())
}

/// Send `pending` with `send` (which answers the unprocessed requests) until none are
/// left, pausing with exponential backoff between attempts; at most `attempts` sends.
pub(super) async fn write_batch<F, Fut>(
    mut pending: Vec<WriteRequest>,
    attempts: u32,
    first_pause: Duration,
    mut send: F,
) -> Result<()>
where
    F: FnMut(Vec<WriteRequest>) -> Fut,
    Fut: Future<Output = Result<Vec<WriteRequest>>>,
{
    let mut pause = first_pause;
    for attempt in 1..=attempts {
        pending = send(pending).await?;
        if pending.is_empty() {
            return Ok(());
        }
        if attempt < attempts {
            tokio::time::sleep(crate::aws::jitter(pause)).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
    }
    bail!(
        "{} item(s) were still unprocessed after {attempts} attempts (throttled: is the \
         table's write capacity too low?)",
        pending.len()
    )
}

/// A seed item as the SDK's attribute map.
pub(super) fn item_of(item: &SeedItem) -> HashMap<String, AttributeValue> {
    item.iter()
        .map(|(k, v)| (k.clone(), attribute_value(v)))
        .collect()
}

/// One seed value as an `AttributeValue`.
pub(super) fn attribute_value(v: &SeedValue) -> AttributeValue {
    let blob = |b: &Vec<u8>| Blob::new(b.clone());
    match v {
        SeedValue::S(s) => AttributeValue::S(s.clone()),
        SeedValue::N(n) => AttributeValue::N(n.clone()),
        SeedValue::B(b) => AttributeValue::B(blob(b)),
        SeedValue::Bool(b) => AttributeValue::Bool(*b),
        SeedValue::Null => AttributeValue::Null(true),
        SeedValue::M(m) => AttributeValue::M(
            m.iter()
                .map(|(k, v)| (k.clone(), attribute_value(v)))
                .collect(),
        ),
        SeedValue::L(l) => AttributeValue::L(l.iter().map(attribute_value).collect()),
        SeedValue::Ss(v) => AttributeValue::Ss(v.clone()),
        SeedValue::Ns(v) => AttributeValue::Ns(v.clone()),
        SeedValue::Bs(v) => AttributeValue::Bs(v.iter().map(blob).collect()),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::{json, Value};

    use super::*;
    use crate::config::{KeyAttribute, KeyType};

    /// The one item of a seed file holding `item` (DynamoDB JSON), parsed as at load.
    fn parsed(item: Value) -> SeedItem {
        let key = KeyAttribute {
            name: "s".into(),
            attr_type: KeyType::S,
        };
        let text = Value::Array(vec![item]).to_string();
        let mut seed = crate::config::parse_seed(&text, &key, None).unwrap();
        seed.items.remove(0)
    }

    #[test]
    fn dynamodb_json_to_attribute_values() {
        let v = json!({
            "s": {"S": "x"}, "n": {"N": "10"}, "b": {"B": "aGk="}, "t": {"BOOL": true},
            "z": {"NULL": true},
            "m": {"M": {"inner": {"L": [{"S": "a"}, {"N": "1"}]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["aGk=", "eW8="]}
        });
        let item = item_of(&parsed(v));
        assert_eq!(item["s"], AttributeValue::S("x".into()));
        assert_eq!(item["n"], AttributeValue::N("10".into()));
        assert_eq!(item["b"], AttributeValue::B(Blob::new(b"hi".to_vec())));
        assert_eq!(item["t"], AttributeValue::Bool(true));
        assert_eq!(item["z"], AttributeValue::Null(true));
        assert_eq!(
            item["m"],
            AttributeValue::M(HashMap::from([(
                "inner".to_string(),
                AttributeValue::L(vec![
                    AttributeValue::S("a".into()),
                    AttributeValue::N("1".into())
                ])
            )]))
        );
        assert_eq!(item["ss"], AttributeValue::Ss(vec!["a".into(), "b".into()]));
        assert_eq!(item["ns"], AttributeValue::Ns(vec!["1".into(), "2".into()]));
        assert_eq!(
            item["bs"],
            AttributeValue::Bs(vec![Blob::new(b"hi".to_vec()), Blob::new(b"yo".to_vec())])
        );
    }

    fn put(id: &str) -> WriteRequest {
        WriteRequest::builder()
            .put_request(
                PutRequest::builder()
                    .item("id", AttributeValue::S(id.into()))
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[tokio::test]
    async fn unprocessed_items_are_sent_again() {
        let sent = RefCell::new(Vec::new());
        let r = write_batch(
            vec![put("a"), put("b"), put("c")],
            5,
            Duration::ZERO,
            |reqs| {
                sent.borrow_mut().push(reqs.len());
                // Each send leaves the last request unprocessed while more than one is left.
                let mut reqs = reqs;
                let left = if reqs.len() > 1 {
                    reqs.split_off(reqs.len() - 1)
                } else {
                    vec![]
                };
                async move { Ok(left) }
            },
        )
        .await;
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(*sent.borrow(), vec![3, 1]);
    }

    #[tokio::test]
    async fn unprocessed_items_give_up_after_the_attempts() {
        let calls = RefCell::new(0);
        let r = write_batch(vec![put("a"), put("b")], 4, Duration::ZERO, |reqs| {
            *calls.borrow_mut() += 1;
            async move { Ok(reqs) }
        })
        .await;
        assert_eq!(*calls.borrow(), 4);
        let e = r.unwrap_err().to_string();
        assert!(
            e.starts_with("2 item(s) were still unprocessed after 4 attempts"),
            "{e}"
        );

        let r = write_batch(vec![put("a")], 4, Duration::ZERO, |_| async {
            bail!("ValidationException: bad")
        })
        .await;
        assert_eq!(r.unwrap_err().to_string(), "ValidationException: bad");
    }
}
