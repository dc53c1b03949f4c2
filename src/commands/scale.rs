//! `ecsdeploy scale SERVICE COUNT` / `--min N --max M`: prints what [`crate::steps::scale`]
//! did, and what the next `up` will do about it.

use anyhow::Result;
use serde_json::json;

use super::{print_json, Session};
use crate::cli::{OutputFormat, ScaleArgs};
use crate::desired::set_by_schedules;
use crate::error::UsageError;

pub async fn run(s: &Session, a: &ScaleArgs) -> Result<()> {
    let service = s.service("scale", &a.service)?;
    let name = s.config.service_name(&a.service);
    let autoscaled = service.autoscaling.as_ref();
    let (done, note) = match (a.count, a.min.zip(a.max), autoscaled) {
        (Some(n), None, None) => (
            crate::steps::scale(&s.ctx, &name, n).await?,
            format!(
                "the next `ecsdeploy up` sets it back to desired_count = {} from the config; \
                 change it there to keep {n}",
                service.desired_count
            ),
        ),
        (Some(_), None, Some(x)) => {
            return Err(UsageError(format!(
                "scale: service `{}` is autoscaled ({} to {} tasks), so autoscaling sets its \
                 count; give the bounds instead: `ecsdeploy scale {} --min N --max M`",
                a.service, x.min, x.max, a.service
            ))
            .into())
        }
        (None, Some((min, max)), Some(x)) => {
            if min > max {
                return Err(UsageError(format!("scale: --min {min} is above --max {max}")).into());
            }
            let schedules: Vec<_> = x.schedules.values().map(|s| (s.min, s.max)).collect();
            let note = if set_by_schedules((x.min, x.max), &schedules, (min, max)) {
                "the task count is autoscaling's, and the next `ecsdeploy up` leaves it; it \
                 leaves these bounds too, a range the schedules set, until the next schedule \
                 runs"
                    .to_string()
            } else {
                format!(
                    "the task count is autoscaling's, and the next `ecsdeploy up` leaves it; it \
                     sets the bounds back to {} to {} from the config, so change them there to \
                     keep these",
                    x.min, x.max
                )
            };
            (
                crate::steps::scale_bounds(&s.ctx, &name, min, max).await?,
                note,
            )
        }
        (None, Some(_), None) => {
            return Err(UsageError(format!(
                "scale: service `{}` has no autoscaling, so it has no bounds; give the count: \
                 `ecsdeploy scale {} N`",
                a.service, a.service
            ))
            .into())
        }
        _ => {
            return Err(UsageError(
                "scale: give the number of tasks (`scale SERVICE 3`) or, for an autoscaled \
                 service, the bounds (`scale SERVICE --min 2 --max 10`)"
                    .into(),
            )
            .into())
        }
    };
    match s.output {
        OutputFormat::Json => print_json(&json!({
            "app": s.config.app,
            "service": a.service,
            "result": done,
            "note": note,
        })),
        OutputFormat::Text => println!("scale {}: {done}\nnote: {note}", a.service),
    }
    Ok(())
}
