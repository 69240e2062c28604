//! CAT-10: Chinese word segmentation for the index (jieba search mode, so a compound
//! also indexes its sub-words) and for queries (jieba precise mode).
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under in the index's tokenizer manager.
pub(crate) const ANALYZER: &str = "gongshu_jieba";

/// Tokens longer than this (in bytes) are not indexed; tantivy refuses huge terms.
const MAX_TOKEN_BYTES: usize = 120;

/// Words that carry no meaning of their own in a query; requiring them would only
/// drop matches. The index keeps them (they are harmless there).
const QUERY_STOP_WORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "等", "之", "a", "an", "and", "for", "in", "of", "or",
    "the",
];

/// jieba's bundled dictionary, loaded once per process and shared by every index
/// built with [`crate::CatalogIndex::build`].
pub(crate) fn default_jieba() -> Arc<Jieba> {
    static JIEBA: OnceLock<Arc<Jieba>> = OnceLock::new();
    Arc::clone(JIEBA.get_or_init(|| Arc::new(Jieba::new())))
}

/// A token is worth indexing or searching if it holds a letter or digit (CJK
/// ideographs count as letters); whitespace and punctuation are dropped.
fn is_word(word: &str) -> bool {
    word.chars().any(char::is_alphanumeric)
}

/// Index-time tokenizer: jieba search-mode segmentation (`常住人口信息` gives
/// `常住`, `人口`, `常住人口`, `信息`), dropping whitespace and punctuation.
#[derive(Clone)]
pub(crate) struct JiebaTokenizer {
    jieba: Arc<Jieba>,
}

impl JiebaTokenizer {
    /// The full analyzer: segmentation, then lowercasing (so `Population` is found
    /// by `population`), without over-long tokens.
    pub(crate) fn analyzer(jieba: Arc<Jieba>) -> TextAnalyzer {
        TextAnalyzer::builder(JiebaTokenizer { jieba })
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(LowerCaser)
            .build()
    }
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = JiebaTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> JiebaTokenStream {
        let tokens = self
            .jieba
            .cut_for_search(text, true)
            .into_iter()
            .filter(|t| is_word(t.word))
            .enumerate()
            .map(|(position, t)| Token {
                offset_from: t.byte_start,
                offset_to: t.byte_end,
                position,
                text: t.word.to_string(),
                position_length: 1,
            })
            .collect();
        JiebaTokenStream { tokens, next: 0 }
    }
}

/// The segmented tokens of one text, handed out in order.
pub(crate) struct JiebaTokenStream {
    tokens: Vec<Token>,
    /// Index of the token after the current one; the current one is `next - 1`.
    next: usize,
}

impl TokenStream for JiebaTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// CAT-10: the words of a query, lowercased and without duplicates, by jieba's
/// precise mode (`常住人口` stays one word; the index holds it and its parts).
/// Stop words are left out unless the query holds nothing else.
pub(crate) fn query_words(jieba: &Jieba, text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for token in jieba.cut(text, true) {
        if !is_word(token.word) {
            continue;
        }
        let word = token.word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    let meaningful: Vec<String> = words
        .iter()
        .filter(|w| !QUERY_STOP_WORDS.contains(&w.as_str()))
        .cloned()
        .collect();
    if meaningful.is_empty() {
        words
    } else {
        meaningful
    }
}

/// The sub-words search mode finds inside one query word (`人口信息` gives `人口`,
/// `信息`), for a word the index does not hold whole.
pub(crate) fn sub_words(jieba: &Jieba, word: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for token in jieba.cut_for_search(word, true) {
        if token.word == word || !is_word(token.word) {
            continue;
        }
        let part = token.word.to_lowercase();
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_tokens(text: &str) -> Vec<String> {
        let mut analyzer = JiebaTokenizer::analyzer(default_jieba());
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            assert_eq!(
                text[t.offset_from..t.offset_to].to_lowercase(),
                t.text,
                "offsets point at the token"
            );
            out.push(t.text.clone());
        }
        out
    }

    #[test]
    fn cat_10_search_mode_indexes_sub_words_of_compounds() {
        let tokens = index_tokens("常住人口信息");
        for word in ["常住", "人口", "信息"] {
            assert!(tokens.iter().any(|t| t == word), "{word} in {tokens:?}");
        }
    }

    #[test]
    fn cat_10_tokens_are_lowercased_without_punctuation() {
        let tokens = index_tokens("Population register，（户籍）");
        assert!(tokens.contains(&"population".to_string()), "{tokens:?}");
        assert!(tokens.contains(&"register".to_string()), "{tokens:?}");
        assert!(tokens.contains(&"户籍".to_string()), "{tokens:?}");
        assert!(tokens.iter().all(|t| is_word(t)), "{tokens:?}");
    }

    #[test]
    fn cat_10_query_words_drop_stop_words_unless_alone() {
        let jieba = default_jieba();
        assert_eq!(query_words(&jieba, "人口 和 法人"), vec!["人口", "法人"]);
        assert_eq!(query_words(&jieba, "The"), vec!["the"]);
        assert!(query_words(&jieba, " ，。").is_empty());
    }
}
