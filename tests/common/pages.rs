//! The realism layer's pages of ECS list answers (part of [`super::realism`]). moto 5.2.5
//! answers ListTasks, ListServices, ListTaskDefinitions, ListTaskDefinitionFamilies and
//! ListClusters with every item at once and ignores `nextToken`; AWS answers a page at a time
//! with a `nextToken` for the rest: "If this parameter isn't used, then ListTasks returns up
//! to 100 results and a nextToken value if applicable" (10 for ListServices; ECS API
//! reference, the requests' `maxResults`), and "If maxResults was provided, it is possible the
//! number of results to be fewer than maxResults" (`nextToken`). A caller that reads one page
//! misses the rest on AWS.
//!
//! Here a page holds at most [`super::realism::Realism::list_page`] items (fewer than AWS's,
//! as the layer's times are shorter than AWS's: a reader of one page then shows up with a
//! handful of items), and at most what AWS would answer. moto's whole answer comes in the
//! same order on every call; the token names the last item a page held.

use serde_json::Value;

/// The ECS list operations: the answer's list field, and AWS's page when the request sets no
/// `maxResults`.
const LISTS: &[(&str, &str, usize)] = &[
    ("ListTasks", "taskArns", 100),
    ("ListServices", "serviceArns", 10),
    ("ListServicesByNamespace", "serviceArns", 10),
    ("ListTaskDefinitions", "taskDefinitionArns", 100),
    ("ListTaskDefinitionFamilies", "families", 100),
    ("ListClusters", "clusterArns", 100),
];

const TOKEN: &str = "realism-page-";

/// Cuts the answer `json` of the list operation `op` to the page `request` asks for, at most
/// `most` items. Whether it did (the answer is not moto's any more).
pub(super) fn cut(op: &str, request: &Value, json: &mut Value, most: usize) -> bool {
    let Some(&(_, field, aws_page)) = LISTS.iter().find(|(o, _, _)| *o == op) else {
        return false;
    };
    let Some(all) = json[field].as_array().cloned() else {
        return false;
    };
    // The token names the page's last item and where it stood: the next page starts after
    // that item wherever it stands now (an item deleted or added before it between the two
    // calls moves no other item off the pages), or where it stood if it is gone.
    let from = match request["nextToken"]
        .as_str()
        .and_then(|t| t.strip_prefix(TOKEN))
    {
        None => 0,
        Some(token) => {
            let (at, last) = token.split_once(':').unwrap_or((token, ""));
            match all.iter().position(|item| item.as_str() == Some(last)) {
                Some(i) => i + 1,
                None => at.parse::<usize>().unwrap_or(0),
            }
        }
    }
    .min(all.len());
    let asked = request["maxResults"].as_u64().map(|n| n as usize);
    let page = asked.unwrap_or(aws_page).min(most).max(1);
    let to = (from + page).min(all.len());
    if from == 0 && to == all.len() {
        return false;
    }
    json[field] = Value::Array(all[from..to].to_vec());
    if to < all.len() {
        let last = all[to - 1].as_str().unwrap_or_default();
        json["nextToken"] = Value::from(format!("{TOKEN}{to}:{last}"));
    }
    true
}
