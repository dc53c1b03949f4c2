//! PLACEHOLDER — being written.

use anyhow::{bail, Result};

use super::Ctx;
use crate::desired::{Outputs, Resolve, Resource};
use crate::plan::Observed;

pub async fn observe(_ctx: &Ctx, _desired: &[&Resource]) -> Result<Vec<Observed>> {
    Ok(vec![])
}
pub async fn create(_ctx: &Ctx, _r: &Resource, _res: &dyn Resolve) -> Result<Outputs> {
    bail!("not written yet")
}
pub async fn update(
    _ctx: &Ctx,
    _r: &Resource,
    _o: &Observed,
    _res: &dyn Resolve,
) -> Result<Outputs> {
    bail!("not written yet")
}
pub async fn delete(_ctx: &Ctx, _o: &Observed) -> Result<()> {
    bail!("not written yet")
}
