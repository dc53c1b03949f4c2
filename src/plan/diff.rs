//! Field-level diff of normalised field maps (pure).

use serde::Serialize;
use serde_json::Value;

use crate::desired::Fields;

/// One field whose live value differs from the desired one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

/// Fields that differ, in field-name order. A field the observed side does not report at
/// all (a step omits what AWS does not echo back) is not compared; a field only observed
/// reads as null on the desired side.
pub fn diff_fields(observed: &Fields, desired: &Fields) -> Vec<FieldChange> {
    observed
        .keys()
        .filter_map(|k| {
            let old = observed.get(k).cloned().unwrap_or(Value::Null);
            let new = desired.get(k).cloned().unwrap_or(Value::Null);
            (old != new).then(|| FieldChange {
                field: k.clone(),
                old,
                new,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        v.as_object().unwrap().clone().into_iter().collect()
    }

    #[test]
    fn equal_maps_have_no_changes() {
        let a = fields(json!({"x": 1, "y": ["a", "b"]}));
        assert!(diff_fields(&a, &a.clone()).is_empty());
    }

    #[test]
    fn unreported_fields_are_not_compared() {
        let live = fields(json!({"desired_count": 1}));
        let want = fields(json!({"desired_count": 1, "grace_period": 60}));
        assert!(diff_fields(&live, &want).is_empty());
    }

    #[test]
    fn reports_each_changed_field() {
        let live = fields(json!({"desired_count": 1, "subnets": ["a"], "gone": true}));
        let want = fields(json!({"desired_count": 2, "subnets": ["a"]}));
        let d = diff_fields(&live, &want);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].field, "desired_count");
        assert_eq!((d[0].old.clone(), d[0].new.clone()), (json!(1), json!(2)));
        assert_eq!(d[1].field, "gone");
        assert_eq!(d[1].new, Value::Null);
    }
}
