//! EFS helpers the file system and mount target steps share.

use anyhow::Result;
use aws_sdk_efs::types::FileSystemDescription;

use crate::aws::err;
use crate::steps::Ctx;

/// True while a file system can still be used: not on its way out.
pub fn alive(f: &FileSystemDescription) -> bool {
    !matches!(f.life_cycle_state().as_str(), "deleting" | "deleted")
}

/// Every file system of the account (one paginated describe).
pub async fn all(ctx: &Ctx) -> Result<Vec<FileSystemDescription>> {
    let mut out = Vec::new();
    let mut pages = ctx.aws.efs.describe_file_systems().into_paginator().send();
    while let Some(page) = pages.try_next().await.map_err(err)? {
        out.extend(page.file_systems().iter().cloned());
    }
    Ok(out)
}
