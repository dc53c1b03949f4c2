//! Tags in each SDK's own `Tag` type: reading one back ([`tag`]) and the ownership tags of
//! a create call ([`owned_tags`]). Each SDK spells `Tag` differently (optional or required
//! key and value); [`SdkTag`] hides that.

use anyhow::Result;

use crate::desired::ResourceId;
use crate::steps::Ctx;

/// One SDK's `Tag`.
pub trait SdkTag: Sized {
    fn key_value(&self) -> (Option<&str>, Option<&str>);
    fn new(key: String, value: String) -> Result<Self>;
}

/// SDKs whose `Tag` has an optional key and value (building it cannot fail).
macro_rules! optional_key_value {
    ($($t:ty),*) => {$(
        impl SdkTag for $t {
            fn key_value(&self) -> (Option<&str>, Option<&str>) {
                (self.key(), self.value())
            }
            fn new(key: String, value: String) -> Result<Self> {
                Ok(<$t>::builder().key(key).value(value).build())
            }
        }
    )*};
}

/// SDKs whose `Tag` requires key and value (building it checks both are set).
macro_rules! required_key_value {
    ($($t:ty),*) => {$(
        impl SdkTag for $t {
            fn key_value(&self) -> (Option<&str>, Option<&str>) {
                (Some(self.key()), Some(self.value()))
            }
            fn new(key: String, value: String) -> Result<Self> {
                Ok(<$t>::builder().key(key).value(value).build()?)
            }
        }
    )*};
}

optional_key_value!(
    aws_sdk_ec2::types::Tag,
    aws_sdk_ecs::types::Tag,
    aws_sdk_rds::types::Tag,
    aws_sdk_elasticloadbalancingv2::types::Tag,
    aws_sdk_secretsmanager::types::Tag
);
required_key_value!(
    aws_sdk_efs::types::Tag,
    aws_sdk_ecr::types::Tag,
    aws_sdk_iam::types::Tag,
    aws_sdk_dynamodb::types::Tag,
    aws_sdk_servicediscovery::types::Tag,
    aws_sdk_scheduler::types::Tag
);

/// The value of the tag `key`, if present.
pub fn tag<'a, T: SdkTag>(tags: &'a [T], key: &str) -> Option<&'a str> {
    tags.iter().find_map(|t| match t.key_value() {
        (Some(k), v) if k == key => v,
        _ => None,
    })
}

/// The ownership tags of a create call ([`Ctx::tags`]) in the SDK's `Tag` type.
pub fn owned_tags<T: SdkTag>(ctx: &Ctx, id: &ResourceId, name: &str) -> Result<Vec<T>> {
    ctx.tags(id, name)
        .into_iter()
        .map(|(k, v)| T::new(k, v))
        .collect()
}
