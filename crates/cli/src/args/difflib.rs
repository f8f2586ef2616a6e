//! Python's `difflib.get_close_matches`, for the "maybe you meant" lines
//! AWS CLI adds to an `Invalid choice` error.
//!
//! The score is `SequenceMatcher.ratio()` (2*M/T, M = characters in the
//! matching blocks found by repeatedly taking the longest common run), and
//! candidates are ordered as `heapq.nlargest` orders `(score, word)` tuples,
//! so ties list the greater word first. Junk heuristics only apply to
//! sequences of 200+ characters and are not reproduced.

/// Up to `n` of `possibilities` whose similarity to `word` is at least `cutoff`, best first.
pub fn get_close_matches<'a>(word: &str, possibilities: &'a [String], n: usize, cutoff: f64) -> Vec<&'a str> {
    let b: Vec<char> = word.chars().collect();
    let mut scored: Vec<(f64, &str)> = Vec::new();
    for x in possibilities {
        let a: Vec<char> = x.chars().collect();
        let r = ratio(&a, &b);
        if r >= cutoff {
            scored.push((r, x.as_str()));
        }
    }
    scored.sort_by(|p, q| q.0.total_cmp(&p.0).then_with(|| q.1.cmp(p.1)));
    scored.into_iter().take(n).map(|(_, x)| x).collect()
}

/// `SequenceMatcher(None, a, b).ratio()`.
pub fn ratio(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    2.0 * matched(a, b, 0, a.len(), 0, b.len()) as f64 / total as f64
}

fn matched(a: &[char], b: &[char], alo: usize, ahi: usize, blo: usize, bhi: usize) -> usize {
    let (i, j, k) = longest_match(a, b, alo, ahi, blo, bhi);
    if k == 0 {
        return 0;
    }
    k + matched(a, b, alo, i, blo, j) + matched(a, b, i + k, ahi, j + k, bhi)
}

/// `find_longest_match`: the earliest longest common run in `a[alo..ahi]` and `b[blo..bhi]`.
fn longest_match(a: &[char], b: &[char], alo: usize, ahi: usize, blo: usize, bhi: usize) -> (usize, usize, usize) {
    let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
    // j2len[j + 1] = length of the run ending at a[i - 1], b[j].
    let mut j2len = vec![0usize; b.len() + 1];
    for (i, ai) in a.iter().enumerate().take(ahi).skip(alo) {
        let mut next = vec![0usize; b.len() + 1];
        for (j, bj) in b.iter().enumerate().take(bhi).skip(blo) {
            if ai == bj {
                let k = j2len[j] + 1;
                next[j + 1] = k;
                if k > bestsize {
                    besti = i + 1 - k;
                    bestj = j + 1 - k;
                    bestsize = k;
                }
            }
        }
        j2len = next;
    }
    (besti, bestj, bestsize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn python_examples() {
        let words = v(&["ape", "apple", "peach", "puppy"]);
        assert_eq!(get_close_matches("appel", &words, 3, 0.6), ["apple", "ape"]);
        let ops = v(&["poll-for-jobs", "poll-for-third-party-jobs", "put-job-success-result"]);
        assert_eq!(get_close_matches("poll-for-third-party-job", &ops, 3, 0.8), ["poll-for-third-party-jobs"]);
        assert_eq!(ratio(&['a', 'b', 'c', 'd'], &['b', 'c', 'd', 'e']), 0.75);
    }
}
