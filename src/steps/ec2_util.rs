//! Shared EC2 helpers: ownership tags in create calls, owner filters, reading tags back.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use super::Ctx;
use crate::desired::{ResourceId, TAG_APP, TAG_RESOURCE};

/// Tag specification for a create call: ownership tags land atomically with the resource.
pub fn tag_spec(ctx: &Ctx, rt: ResourceType, id: &ResourceId, name: &str) -> TagSpecification {
    let mut b = TagSpecification::builder().resource_type(rt);
    for (k, v) in ctx.tags(id, name) {
        b = b.tags(Tag::builder().key(k).value(v).build());
    }
    b.build()
}

/// Filter matching every EC2 resource this app owns.
pub fn owned(ctx: &Ctx) -> Filter {
    Filter::builder()
        .name(format!("tag:{TAG_APP}"))
        .values(ctx.app.clone())
        .build()
}

/// The logical id in a resource's ownership tag.
pub fn owned_id(tags: &[Tag]) -> Option<ResourceId> {
    tag(tags, TAG_RESOURCE).and_then(ResourceId::parse)
}

pub fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The `Name` tag, or the given fallback (the AWS id).
pub fn name_or(tags: &[Tag], fallback: &str) -> String {
    tag(tags, "Name").unwrap_or(fallback).to_string()
}
