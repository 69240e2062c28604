//! CAT-10: counts of the matched entries per value of each facet field, read from
//! the fields' columnar (fast) storage segment by segment.
use std::collections::{BTreeMap, HashMap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Counts per value, for each facet, in the order of [`crate::FACETS`].
pub(crate) struct FacetCounter;

/// The facet fields' columns of one segment, and counts per term ordinal.
pub(crate) struct SegmentFacetCounter {
    /// `None` when the segment holds no value for the field.
    columns: Vec<Option<StrColumn>>,
    counts: Vec<Vec<u64>>,
}

impl Collector for FacetCounter {
    type Fruit = BTreeMap<String, Vec<(String, u64)>>;
    type Child = SegmentFacetCounter;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounter> {
        let fast = segment.fast_fields();
        let mut columns = Vec::with_capacity(crate::FACETS.len());
        let mut counts = Vec::with_capacity(crate::FACETS.len());
        for facet in crate::FACETS {
            let column = fast.str(facet)?;
            counts.push(vec![0; column.as_ref().map_or(0, |c| c.num_terms())]);
            columns.push(column);
        }
        Ok(SegmentFacetCounter { columns, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segment_fruits: Vec<Vec<Vec<(String, u64)>>>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut merged: Vec<HashMap<String, u64>> = vec![HashMap::new(); crate::FACETS.len()];
        for segment in segment_fruits {
            for (facet, values) in merged.iter_mut().zip(segment) {
                for (key, count) in values {
                    *facet.entry(key).or_insert(0) += count;
                }
            }
        }
        Ok(crate::FACETS
            .iter()
            .zip(merged)
            .map(|(name, counts)| {
                let mut values: Vec<(String, u64)> = counts.into_iter().collect();
                // Most frequent first; ties by key, so the order is stable.
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (name.to_string(), values)
            })
            .collect())
    }
}

impl SegmentCollector for SegmentFacetCounter {
    /// Per facet, the values of this segment that matched, with their counts.
    type Fruit = Vec<Vec<(String, u64)>>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter().zip(self.counts.iter_mut()) {
            if let Some(ord) = column.as_ref().and_then(|c| c.ords().first(doc)) {
                counts[ord as usize] += 1;
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.columns
            .iter()
            .zip(self.counts)
            .map(|(column, counts)| {
                let Some(column) = column else {
                    return Vec::new();
                };
                let mut key = String::new();
                counts
                    .into_iter()
                    .enumerate()
                    .filter(|&(_, count)| count > 0)
                    .filter_map(|(ord, count)| {
                        key.clear();
                        // An ordinal from the column is always in its dictionary.
                        match column.ord_to_str(ord as u64, &mut key) {
                            Ok(true) => Some((key.clone(), count)),
                            _ => None,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}
