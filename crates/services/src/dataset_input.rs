//! COL-1: reading delivered files (CSV in UTF-8/GBK/GB18030, XLSX, JSON, NDJSON) as a stream of raw records, without holding the file in memory.
//!
//! "Validation that loses nothing" (COL-1): every record of a delivered file comes out
//! either as [`RawRecord::Fields`] or as [`RawRecord::Bad`] carrying its raw text and a
//! stable reason code; a problem that makes the rest of the file unreadable stops the
//! read with an [`InputError`]. Files are read incrementally with bounded buffers.
//!
//! Per format:
//! - **CSV** — decoded in 64 KiB chunks from UTF-8, GBK or GB18030 (detected when not
//!   declared; invalid bytes stop the read, they are never replaced), UTF-8 BOM
//!   removed, parsed by the `csv` crate (flexible). A guard in front of the parser
//!   passes at most `max_field_bytes` + 1 bytes of any field and drops the rest, so a
//!   100 MB field costs no memory and its record becomes `input.field_too_large`; a
//!   record longer than `max_record_bytes` or with more than [`MAX_FIELDS`] fields stops
//!   the read. Rows are numbered as a spreadsheet shows the file: header = 1, each record
//!   is one row even with embedded newlines, and each blank line is one row (blank lines
//!   themselves are skipped). A record with another field count than the header is
//!   `input.ragged_row`, its raw text the fields re-joined as CSV. A quoted field still
//!   open at the end of the file stops the read with `input.truncated`.
//! - **XLSX** — every zip entry's declared sizes are checked before anything is
//!   decompressed (`input.zip_bomb`); the first visible worksheet is then streamed cell
//!   by cell. The first non-empty row is the header (trailing empty header cells are
//!   ignored); fully empty rows are skipped; row numbers are the sheet's. Short rows are
//!   padded with "", values beyond the header are `input.ragged_row`, error values
//!   (`#DIV/0!`) are `input.cell_error`.
//! - **JSON** — a top-level array of objects, cut element by element by a small scanner
//!   and parsed one element at a time; a syntax error stops the read naming the element.
//! - **NDJSON** — one object per line, blank lines skipped; a line that is not JSON is
//!   `input.malformed_json` and the read goes on.
//!
//! JSON and NDJSON objects map onto `options.columns`: a missing key or null is "", a
//! string is itself, a number keeps its JSON text, true/false are "true"/"false". A key
//! that is not a column, a key given twice, an array or object value, or an element that
//! is not an object makes a bad record whose raw text is the element or line as sent.
//!
//! When a read stops, every record before the point of failure has been delivered.
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx};
use encoding_rs::{DecoderResult, Encoding};

/// Default longest field: 1 MiB.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 1 << 20;
/// Default longest record (a CSV record, a JSON element, an NDJSON line): 16 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 << 20;
/// Default largest total uncompressed size of an XLSX: 512 MiB.
pub const DEFAULT_MAX_XLSX_UNCOMPRESSED: u64 = 512 << 20;
/// Default largest compression ratio of an XLSX entry: 100:1.
pub const DEFAULT_MAX_XLSX_RATIO: u64 = 100;
/// Most fields in one CSV record or XLSX row (Excel's own column limit).
pub const MAX_FIELDS: usize = 16_384;

/// How much of a CSV file is sampled to detect its encoding.
const SNIFF_BYTES: usize = 64 * 1024;
/// Size of the read and decode buffers.
const CHUNK_BYTES: usize = 64 * 1024;
/// `RecordSink::progress` is called at least this often (bytes or records).
const PROGRESS_BYTES: u64 = 1 << 20;
const PROGRESS_RECORDS: u64 = 10_000;
/// How much raw text a `input.field_too_large` record keeps.
const RAW_PREVIEW_BYTES: usize = 1024;
/// Entries up to this uncompressed size are exempt from the ratio check (tiny,
/// repetitive XML parts compress well and are harmless; the total limit still applies).
const RATIO_EXEMPT_BYTES: u64 = 1 << 20;

/// Stable codes of [`RawRecord::Bad`].
pub mod bad_code {
    /// The record has a different number of fields than the header.
    pub const RAGGED_ROW: &str = "input.ragged_row";
    /// A field is longer than `max_field_bytes`; the raw text is cut to its first 1 KiB.
    pub const FIELD_TOO_LARGE: &str = "input.field_too_large";
    /// An XLSX cell holds an error value such as `#DIV/0!`.
    pub const CELL_ERROR: &str = "input.cell_error";
    /// A JSON value is an array or an object.
    pub const NESTED_VALUE: &str = "input.nested_value";
    /// A JSON object has a key that is not one of the columns.
    pub const UNKNOWN_FIELD: &str = "input.unknown_field";
    /// A JSON object has the same key twice.
    pub const DUPLICATE_KEY: &str = "input.duplicate_key";
    /// A JSON array element or NDJSON line is not an object.
    pub const NOT_AN_OBJECT: &str = "input.not_an_object";
    /// An NDJSON line is not valid JSON.
    pub const MALFORMED_JSON: &str = "input.malformed_json";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Csv,
    Xlsx,
    Json,
    Ndjson,
}

impl InputFormat {
    /// From a file name's extension (csv, txt→Csv, xlsx, json, ndjson/jsonl), case-insensitive.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "csv" | "txt" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "json" => Some(Self::Json),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            _ => None,
        }
    }

    /// From a stable code: "csv", "xlsx", "json", "ndjson".
    pub fn parse(code: &str) -> Option<Self> {
        [Self::Csv, Self::Xlsx, Self::Json, Self::Ndjson]
            .into_iter()
            .find(|f| f.code().eq_ignore_ascii_case(code.trim()))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Gbk,
    Gb18030,
}

impl TextEncoding {
    /// "utf-8"/"utf8", "gbk", "gb18030", case-insensitive.
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Self::Utf8),
            "gbk" => Some(Self::Gbk),
            "gb18030" => Some(Self::Gb18030),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Gbk => "gbk",
            Self::Gb18030 => "gb18030",
        }
    }

    /// The name people know it by, for messages.
    pub fn display_name(&self) -> &'static str {
        match self {
            Self::Utf8 => "UTF-8",
            Self::Gbk => "GBK",
            Self::Gb18030 => "GB18030",
        }
    }

    fn encoding(&self) -> &'static Encoding {
        match self {
            Self::Utf8 => encoding_rs::UTF_8,
            Self::Gbk => encoding_rs::GBK,
            Self::Gb18030 => encoding_rs::GB18030,
        }
    }
}

#[derive(Debug, Clone)]
pub struct InputOptions {
    pub format: InputFormat,
    /// Declared by the uploader; None = detect (CSV only): a UTF-8 BOM or a file whose
    /// first 64 KiB is valid UTF-8 → Utf8, otherwise Gb18030 if the sample decodes
    /// without errors as GB18030, else `input.unknown_encoding`. JSON and NDJSON default
    /// to UTF-8; XLSX ignores it.
    pub encoding: Option<TextEncoding>,
    /// For JSON/NDJSON: the expected column names (object keys). Required for
    /// JSON/NDJSON; for CSV/XLSX the header row gives them.
    pub columns: Vec<String>,
    /// Longest single field in bytes (default 1 MiB). A longer field makes that record
    /// bad (`input.field_too_large`).
    pub max_field_bytes: usize,
    /// Longest single record in bytes (default 16 MiB; never less than
    /// `max_field_bytes` + 1 KiB): a CSV record, a JSON array element or an NDJSON
    /// line. A longer one stops the read (`input.record_too_large`).
    pub max_record_bytes: usize,
    /// Largest total uncompressed size of an XLSX (default 512 MiB).
    pub max_xlsx_uncompressed: u64,
    /// Largest compression ratio of any XLSX entry (default 100:1).
    pub max_xlsx_ratio: u64,
}

impl InputOptions {
    pub fn new(format: InputFormat) -> Self {
        Self {
            format,
            encoding: None,
            columns: Vec::new(),
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_xlsx_uncompressed: DEFAULT_MAX_XLSX_UNCOMPRESSED,
            max_xlsx_ratio: DEFAULT_MAX_XLSX_RATIO,
        }
    }

    pub fn with_encoding(mut self, encoding: TextEncoding) -> Self {
        self.encoding = Some(encoding);
        self
    }

    pub fn with_columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = columns.into_iter().map(Into::into).collect();
        self
    }

    fn record_limit(&self) -> usize {
        self.max_record_bytes
            .max(self.max_field_bytes.saturating_add(1024))
    }
}

/// One record as delivered, or why it cannot be one. `row` is the 1-based position a
/// person would find it at: the row in the file for CSV/XLSX (header = row 1; for CSV a
/// record with embedded newlines is one row, a blank line is one row), the element
/// index for JSON arrays, the line number for NDJSON.
#[derive(Debug, Clone, PartialEq)]
pub enum RawRecord {
    Fields {
        row: u64,
        fields: Vec<String>,
    },
    Bad {
        row: u64,
        raw: String,
        code: &'static str,
        message_zh: String,
        message_en: String,
    },
}

impl RawRecord {
    pub fn row(&self) -> u64 {
        match self {
            Self::Fields { row, .. } | Self::Bad { row, .. } => *row,
        }
    }
}

/// Receives the stream. Returning Err(reason) stops reading (the caller aborted);
/// read_file then returns InputError::Stopped(reason).
pub trait RecordSink {
    /// Called once before any record with the column names (CSV/XLSX header row,
    /// trimmed, BOM removed; JSON/NDJSON: options.columns).
    fn headers(&mut self, headers: &[String]) -> Result<(), String>;
    fn record(&mut self, record: RawRecord) -> Result<(), String>;
    /// A well-formed record whose fields are borrowed from the reader's buffer (CSV):
    /// the same as [`RawRecord::Fields`], for a sink that need not own them.
    fn fields(&mut self, row: u64, fields: &[&str]) -> Result<(), String> {
        self.record(RawRecord::Fields {
            row,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        })
    }
    /// Called now and then (at least every ~1 MiB or 10,000 records) with bytes
    /// consumed so far of the (compressed, on-disk) file.
    fn progress(&mut self, _bytes_read: u64) {}
}

/// What a read delivered. `records` counts [`RawRecord::Fields`], `bad_records` counts
/// [`RawRecord::Bad`]; together they are every record of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSummary {
    pub format: InputFormat,
    /// The encoding the text was decoded with (None for XLSX).
    pub encoding: Option<TextEncoding>,
    pub records: u64,
    pub bad_records: u64,
    /// Bytes of the file read.
    pub bytes: u64,
}

/// Why an XLSX was taken for a zip bomb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipBombKind {
    /// The entries together would decompress to more than `limit` bytes.
    TotalTooLarge { total: u64, limit: u64 },
    /// The entry decompresses to more than `limit` times its compressed size.
    RatioTooHigh { limit: u64 },
    /// The entry claims content but has no compressed bytes.
    NothingCompressed,
}

/// A problem that stops the whole file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}", self.message_en())]
    Io(#[from] io::Error),
    /// No header row (CSV/XLSX) or no content at all (JSON).
    #[error("{}", self.message_en())]
    Empty,
    /// Bytes that are not valid text in `encoding`. `line` is the physical line (1-based,
    /// counting every line feed), `byte_offset` the 0-based offset in the file.
    #[error("{}", self.message_en())]
    InvalidEncoding {
        encoding: TextEncoding,
        line: u64,
        byte_offset: u64,
    },
    #[error("{}", self.message_en())]
    UnknownEncoding,
    #[error("{}", self.message_en())]
    MalformedCsv { row: u64, detail: String },
    /// A quoted CSV field that starts at `row` is never closed.
    #[error("{}", self.message_en())]
    Truncated { row: u64 },
    /// A header field longer than `max_field_bytes`.
    #[error("{}", self.message_en())]
    FieldTooLarge { row: u64, limit: usize },
    #[error("{}", self.message_en())]
    RecordTooLarge { row: u64, limit: usize },
    /// A CSV record or XLSX row with more than `limit` fields.
    #[error("{}", self.message_en())]
    TooManyFields { row: u64, limit: usize },
    #[error("{}", self.message_en())]
    NotXlsx { detail: String },
    #[error("{}", self.message_en())]
    ZipBomb {
        entry: String,
        compressed: u64,
        uncompressed: u64,
        kind: ZipBombKind,
    },
    #[error("{}", self.message_en())]
    NoSheet,
    #[error("{}", self.message_en())]
    MalformedXlsx { detail: String },
    #[error("{}", self.message_en())]
    NotAnArray,
    /// JSON syntax error in or after array element `element` (1-based; 0 = before the first).
    #[error("{}", self.message_en())]
    MalformedJson { element: u64, detail: String },
    /// Columns `first` and `second` (1-based) of the header have the same name.
    #[error("{}", self.message_en())]
    DuplicateHeader {
        name: String,
        first: usize,
        second: usize,
    },
    /// Column `column` (1-based) of the header is empty.
    #[error("{}", self.message_en())]
    EmptyHeader { column: usize },
    /// JSON/NDJSON read without `options.columns`.
    #[error("{}", self.message_en())]
    NoColumns,
    /// The sink refused a record or the headers.
    #[error("{}", self.message_en())]
    Stopped(String),
}

impl InputError {
    /// The stable code. Invalid bytes are `input.invalid_utf8` for UTF-8 and
    /// `input.invalid_encoding` for GBK/GB18030.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io(_) => "input.io",
            Self::Empty => "input.empty",
            Self::InvalidEncoding {
                encoding: TextEncoding::Utf8,
                ..
            } => "input.invalid_utf8",
            Self::InvalidEncoding { .. } => "input.invalid_encoding",
            Self::UnknownEncoding => "input.unknown_encoding",
            Self::MalformedCsv { .. } => "input.malformed_csv",
            Self::Truncated { .. } => "input.truncated",
            Self::FieldTooLarge { .. } => "input.field_too_large",
            Self::RecordTooLarge { .. } => "input.record_too_large",
            Self::TooManyFields { .. } => "input.too_many_fields",
            Self::NotXlsx { .. } => "input.not_xlsx",
            Self::ZipBomb { .. } => "input.zip_bomb",
            Self::NoSheet => "input.no_sheet",
            Self::MalformedXlsx { .. } => "input.malformed_xlsx",
            Self::NotAnArray => "input.not_an_array",
            Self::MalformedJson { .. } => "input.malformed_json",
            Self::DuplicateHeader { .. } => "input.duplicate_header",
            Self::EmptyHeader { .. } => "input.empty_header",
            Self::NoColumns => "input.no_columns",
            Self::Stopped(_) => "input.stopped",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Self::Io(e) => format!("读取文件失败：{e}"),
            Self::Empty => "文件为空：没有表头或数据".into(),
            Self::InvalidEncoding {
                encoding,
                line,
                byte_offset,
            } => {
                let hint = if *encoding == TextEncoding::Utf8 {
                    "；如文件为 GBK/GB18030 编码，请在上传时声明编码"
                } else {
                    "；请确认上传时声明的编码"
                };
                format!(
                    "第 {line} 行（字节偏移 {byte_offset}）不是有效的 {} 编码{hint}",
                    encoding.display_name()
                )
            }
            Self::UnknownEncoding => {
                "无法识别文件编码：既不是 UTF-8 也不是 GBK/GB18030，请在上传时声明编码".into()
            }
            Self::MalformedCsv { row, detail } => format!("第 {row} 行 CSV 格式错误：{detail}"),
            Self::Truncated { row } => format!(
                "文件不完整：第 {row} 行开始的带引号字段直到文件末尾都没有结束引号（文件可能被截断，或有多余的引号）"
            ),
            Self::FieldTooLarge { row, limit } => {
                format!("第 {row} 行有字段超过 {limit} 字节的上限")
            }
            Self::RecordTooLarge { row, limit } => {
                format!("第 {row} 条记录超过 {limit} 字节的上限，已停止读取")
            }
            Self::TooManyFields { row, limit } => {
                format!("第 {row} 行超过 {limit} 列的上限，已停止读取")
            }
            Self::NotXlsx { detail } => format!(
                "不是有效的 XLSX 文件（{detail}）；如为旧版 .xls 文件，请另存为 .xlsx"
            ),
            Self::ZipBomb {
                entry,
                compressed,
                uncompressed,
                kind,
            } => match kind {
                ZipBombKind::TotalTooLarge { total, limit } => format!(
                    "XLSX 文件解压后至少 {total} 字节（到 {entry} 为止），超过 {limit} 字节的上限，疑似压缩炸弹，已拒绝"
                ),
                ZipBombKind::RatioTooHigh { limit } => format!(
                    "XLSX 文件内的 {entry} 压缩后 {compressed} 字节、解压后 {uncompressed} 字节，压缩比超过 {limit}:1，疑似压缩炸弹，已拒绝"
                ),
                ZipBombKind::NothingCompressed => format!(
                    "XLSX 文件内的 {entry} 没有压缩数据却声明解压后 {uncompressed} 字节，疑似压缩炸弹，已拒绝"
                ),
            },
            Self::NoSheet => "XLSX 文件中没有工作表".into(),
            Self::MalformedXlsx { detail } => format!("XLSX 文件内容损坏：{detail}"),
            Self::NotAnArray => "JSON 文件的顶层必须是对象数组（[{...}, ...]）".into(),
            Self::MalformedJson { element, detail } => {
                format!("第 {element} 个元素处 JSON 语法错误：{detail}")
            }
            Self::DuplicateHeader {
                name,
                first,
                second,
            } => format!("表头第 {first} 列和第 {second} 列重名：{name}"),
            Self::EmptyHeader { column } => format!("表头第 {column} 列为空"),
            Self::NoColumns => "读取 JSON/NDJSON 文件需要先给出列名".into(),
            Self::Stopped(reason) => format!("读取已中止：{reason}"),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::Io(e) => format!("cannot read the file: {e}"),
            Self::Empty => "the file is empty: there is no header or data".into(),
            Self::InvalidEncoding {
                encoding,
                line,
                byte_offset,
            } => {
                let hint = if *encoding == TextEncoding::Utf8 {
                    "; if the file is in GBK/GB18030, declare its encoding when uploading"
                } else {
                    "; check the encoding declared when uploading"
                };
                format!(
                    "line {line} (byte offset {byte_offset}) is not valid {}{hint}",
                    encoding.display_name()
                )
            }
            Self::UnknownEncoding => "cannot tell the file's encoding: it is neither UTF-8 nor GBK/GB18030; declare the encoding when uploading".into(),
            Self::MalformedCsv { row, detail } => format!("row {row} is not valid CSV: {detail}"),
            Self::Truncated { row } => format!(
                "the file is incomplete: the quoted field starting at row {row} has no closing quote before the end of the file (the file may be cut off, or has a stray quote)"
            ),
            Self::FieldTooLarge { row, limit } => {
                format!("row {row} has a field longer than the limit of {limit} bytes")
            }
            Self::RecordTooLarge { row, limit } => {
                format!("record {row} is longer than the limit of {limit} bytes; reading stopped")
            }
            Self::TooManyFields { row, limit } => {
                format!("row {row} has more than the limit of {limit} fields; reading stopped")
            }
            Self::NotXlsx { detail } => format!(
                "not a valid XLSX file ({detail}); if it is an old .xls file, save it as .xlsx"
            ),
            Self::ZipBomb {
                entry,
                compressed,
                uncompressed,
                kind,
            } => match kind {
                ZipBombKind::TotalTooLarge { total, limit } => format!(
                    "the XLSX file would decompress to at least {total} bytes (up to {entry}), more than the limit of {limit} bytes; refused as a likely zip bomb"
                ),
                ZipBombKind::RatioTooHigh { limit } => format!(
                    "{entry} in the XLSX file is {compressed} bytes compressed and {uncompressed} bytes uncompressed, a ratio above {limit}:1; refused as a likely zip bomb"
                ),
                ZipBombKind::NothingCompressed => format!(
                    "{entry} in the XLSX file has no compressed data but claims {uncompressed} bytes; refused as a likely zip bomb"
                ),
            },
            Self::NoSheet => "the XLSX file has no worksheet".into(),
            Self::MalformedXlsx { detail } => format!("the XLSX file is damaged: {detail}"),
            Self::NotAnArray => {
                "the top level of a JSON file must be an array of objects ([{...}, ...])".into()
            }
            Self::MalformedJson { element, detail } => {
                format!("JSON syntax error at element {element}: {detail}")
            }
            Self::DuplicateHeader {
                name,
                first,
                second,
            } => format!("header columns {first} and {second} have the same name: {name}"),
            Self::EmptyHeader { column } => format!("header column {column} is empty"),
            Self::NoColumns => "reading a JSON/NDJSON file needs the column names".into(),
            Self::Stopped(reason) => format!("reading stopped: {reason}"),
        }
    }
}

/// Reads the file at `path` and feeds `sink`. Blocking (the caller runs it on a
/// blocking thread).
pub fn read_file(
    path: &Path,
    options: &InputOptions,
    sink: &mut dyn RecordSink,
) -> Result<InputSummary, InputError> {
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let feed = Feed::new(sink);
    let progress = |bytes: u64| feed.bytes_read(bytes.min(file_len));
    let encoding = match options.format {
        InputFormat::Csv => Some(read_csv(file, options, &feed, &progress)?),
        InputFormat::Xlsx => {
            read_xlsx(file, options, &feed, &progress)?;
            None
        }
        InputFormat::Json | InputFormat::Ndjson => {
            Some(read_json(file, options, &feed, &progress)?)
        }
    };
    feed.sink.borrow_mut().progress(file_len);
    Ok(InputSummary {
        format: options.format,
        encoding,
        records: feed.records.get(),
        bad_records: feed.bad_records.get(),
        bytes: file_len,
    })
}

/// Reports bytes consumed of the file; the readers call it as they go.
type Progress<'f> = &'f dyn Fn(u64);

/// Counts what goes to the sink and paces progress reports. Shared (`&self`) between
/// the record loop and the readers that report bytes read; the sink is never called
/// re-entrantly.
struct Feed<'a> {
    sink: RefCell<&'a mut dyn RecordSink>,
    records: Cell<u64>,
    bad_records: Cell<u64>,
    bytes: Cell<u64>,
    reported_bytes: Cell<u64>,
    reported_records: Cell<u64>,
}

impl<'a> Feed<'a> {
    fn new(sink: &'a mut dyn RecordSink) -> Self {
        Self {
            sink: RefCell::new(sink),
            records: Cell::new(0),
            bad_records: Cell::new(0),
            bytes: Cell::new(0),
            reported_bytes: Cell::new(0),
            reported_records: Cell::new(0),
        }
    }

    fn headers(&self, headers: &[String]) -> Result<(), InputError> {
        self.sink
            .borrow_mut()
            .headers(headers)
            .map_err(InputError::Stopped)
    }

    fn record(&self, record: RawRecord) -> Result<(), InputError> {
        let counter = match record {
            RawRecord::Fields { .. } => &self.records,
            RawRecord::Bad { .. } => &self.bad_records,
        };
        counter.set(counter.get() + 1);
        self.sink
            .borrow_mut()
            .record(record)
            .map_err(InputError::Stopped)?;
        self.counted()
    }

    /// A well-formed record with borrowed fields (see [`RecordSink::fields`]).
    fn fields(&self, row: u64, fields: &[&str]) -> Result<(), InputError> {
        self.records.set(self.records.get() + 1);
        self.sink
            .borrow_mut()
            .fields(row, fields)
            .map_err(InputError::Stopped)?;
        self.counted()
    }

    /// Reports progress every so many records.
    fn counted(&self) -> Result<(), InputError> {
        let total = self.records.get() + self.bad_records.get();
        if total >= self.reported_records.get() + PROGRESS_RECORDS {
            self.report();
        }
        Ok(())
    }

    fn bytes_read(&self, bytes: u64) {
        self.bytes.set(bytes.max(self.bytes.get()));
        if self.bytes.get() >= self.reported_bytes.get() + PROGRESS_BYTES {
            self.report();
        }
    }

    fn report(&self) {
        let bytes = self.bytes.get();
        self.reported_bytes.set(bytes);
        self.reported_records
            .set(self.records.get() + self.bad_records.get());
        // Readers report from inside a read, never while the sink is busy.
        if let Ok(mut sink) = self.sink.try_borrow_mut() {
            sink.progress(bytes);
        }
    }
}

// ---------------------------------------------------------------------------
// Bad records and their messages

/// How a format names a record's position in messages.
#[derive(Clone, Copy)]
enum Place {
    Row,
    Element,
    Line,
}

impl Place {
    fn zh(self, n: u64) -> String {
        match self {
            Place::Row | Place::Line => format!("第 {n} 行"),
            Place::Element => format!("第 {n} 个元素"),
        }
    }

    fn en(self, n: u64) -> String {
        match self {
            Place::Row => format!("row {n}"),
            Place::Element => format!("element {n}"),
            Place::Line => format!("line {n}"),
        }
    }
}

fn bad(row: u64, raw: String, code: &'static str, zh: String, en: String) -> RawRecord {
    RawRecord::Bad {
        row,
        raw,
        code,
        message_zh: zh,
        message_en: en,
    }
}

fn ragged(row: u64, raw: String, found: usize, expected: usize) -> RawRecord {
    bad(
        row,
        raw,
        bad_code::RAGGED_ROW,
        format!("第 {row} 行有 {found} 列，表头有 {expected} 列"),
        format!("row {row} has {found} fields, the header has {expected}"),
    )
}

/// `column` names the field (a number, a letter or a key); the raw text is cut.
fn field_too_large(
    place: Place,
    row: u64,
    raw: &str,
    column_zh: &str,
    column_en: &str,
    limit: usize,
) -> RawRecord {
    bad(
        row,
        preview(raw),
        bad_code::FIELD_TOO_LARGE,
        format!(
            "{}{column_zh}超过 {limit} 字节的上限；原文只保留前 1 KiB",
            place.zh(row)
        ),
        format!(
            "{}, {column_en} is longer than the limit of {limit} bytes; the raw text keeps only its first 1 KiB",
            place.en(row)
        ),
    )
}

/// The first 1 KiB of `raw` (cut at a character boundary) and a "…" marker.
fn preview(raw: &str) -> String {
    if raw.len() <= RAW_PREVIEW_BYTES {
        return raw.to_string();
    }
    let mut end = RAW_PREVIEW_BYTES;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &raw[..end])
}

/// Fields re-joined as one line of CSV text.
fn csv_text<I, T>(fields: I) -> String
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(fields);
    let mut bytes = writer.into_inner().unwrap_or_default();
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Header names: trimmed, the first without a BOM, none empty, no two alike.
fn check_headers(names: Vec<String>, trim: bool) -> Result<Vec<String>, InputError> {
    let names: Vec<String> = names
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let n = if i == 0 {
                n.trim_start_matches('\u{feff}').to_string()
            } else {
                n
            };
            if trim {
                n.trim().to_string()
            } else {
                n
            }
        })
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(InputError::EmptyHeader { column: i + 1 });
        }
        if let Some(first) = seen.insert(name.as_str(), i + 1) {
            return Err(InputError::DuplicateHeader {
                name: name.clone(),
                first,
                second: i + 1,
            });
        }
    }
    Ok(names)
}

// ---------------------------------------------------------------------------
// Decoding

/// Turns bytes in a declared encoding into UTF-8, chunk by chunk; never replaces a
/// malformed sequence — it fails with `InputError::InvalidEncoding` (COL-1). A UTF-8
/// BOM is removed.
struct DecodeReader<'f, R> {
    inner: R,
    progress: Progress<'f>,
    encoding: TextEncoding,
    decoder: encoding_rs::Decoder,
    src: Box<[u8]>,
    src_pos: usize,
    src_len: usize,
    src_eof: bool,
    finished: bool,
    out: Box<[u8]>,
    out_pos: usize,
    out_len: usize,
    /// Source bytes the decoder has taken.
    consumed: u64,
    /// Line feeds among them.
    line_feeds: u64,
    failure: Option<InputError>,
}

impl<'f, R: Read> DecodeReader<'f, R> {
    fn new(inner: R, encoding: TextEncoding, progress: Progress<'f>) -> Self {
        Self {
            inner,
            progress,
            encoding,
            decoder: encoding.encoding().new_decoder_with_bom_removal(),
            src: vec![0; CHUNK_BYTES].into_boxed_slice(),
            src_pos: 0,
            src_len: 0,
            src_eof: false,
            finished: false,
            out: vec![0; CHUNK_BYTES].into_boxed_slice(),
            out_pos: 0,
            out_len: 0,
            consumed: 0,
            line_feeds: 0,
            failure: None,
        }
    }

    fn failed() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, "invalid text encoding")
    }
}

fn count_line_feeds(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

impl<R: Read> Read for DecodeReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.failure.is_some() {
                return Err(Self::failed());
            }
            if self.finished {
                return Ok(0);
            }
            if self.src_pos == self.src_len && !self.src_eof {
                let n = loop {
                    match self.inner.read(&mut self.src) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                self.src_pos = 0;
                self.src_len = n;
                self.src_eof = n == 0;
            }
            let last = self.src_eof;
            let input = &self.src[self.src_pos..self.src_len];
            let (result, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(input, &mut self.out, last);
            if let DecoderResult::Malformed(bad_len, extra) = result {
                let bad_end = read - extra as usize;
                let bad_start = bad_end.saturating_sub(bad_len as usize);
                let byte_offset = (self.consumed + bad_end as u64).saturating_sub(bad_len as u64);
                let line = self.line_feeds + count_line_feeds(&input[..bad_start]) + 1;
                self.failure = Some(InputError::InvalidEncoding {
                    encoding: self.encoding,
                    line,
                    byte_offset,
                });
                // Hand over the text before the bad bytes first; fail on the next read.
                self.out_pos = 0;
                self.out_len = written;
                continue;
            }
            self.line_feeds += count_line_feeds(&input[..read]);
            self.consumed += read as u64;
            (self.progress)(self.consumed);
            self.src_pos += read;
            self.out_pos = 0;
            self.out_len = written;
            if last && result == DecoderResult::InputEmpty {
                self.finished = true;
            }
        }
    }
}

/// CSV only: UTF-8 if the file starts with a UTF-8 BOM or its first 64 KiB are UTF-8,
/// else GB18030 if they decode as GB18030, else `input.unknown_encoding`.
fn detect_encoding(file: &mut File) -> Result<TextEncoding, InputError> {
    let mut sample = Vec::with_capacity(SNIFF_BYTES);
    file.by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)?;
    file.seek(SeekFrom::Start(0))?;
    let whole_file = sample.len() < SNIFF_BYTES;
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return Ok(TextEncoding::Utf8);
    }
    match std::str::from_utf8(&sample) {
        Ok(_) => return Ok(TextEncoding::Utf8),
        // A character cut by the end of the sample.
        Err(e) if e.error_len().is_none() && !whole_file => return Ok(TextEncoding::Utf8),
        Err(_) => {}
    }
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = vec![0; sample.len() * 3 + 16];
    let (result, _, _) = decoder.decode_to_utf8_without_replacement(&sample, &mut out, whole_file);
    match result {
        DecoderResult::InputEmpty => Ok(TextEncoding::Gb18030),
        _ => Err(InputError::UnknownEncoding),
    }
}

// ---------------------------------------------------------------------------
// CSV

/// Where the guard's mirror of the csv parser is (the `csv` crate's states with its
/// defaults: `,` delimiter, `"` quote doubled to escape, CR, LF or CRLF terminators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: closes it, or starts a doubled quote.
    QuoteInQuoted,
}

/// Sits between the decoder and the `csv` reader and mirrors its parse (COL-1):
/// - numbers rows as a spreadsheet would show the file (each record and each blank line
///   is one row) and queues the row of every record it sees start;
/// - passes at most `max_field + 1` content bytes of a field and drops the rest, so a
///   huge field costs no memory and the record is reported as too large;
/// - stops with `input.record_too_large` when a record passes `max_record` bytes;
/// - notes a quoted field still open at the end of the file.
struct CsvGuard<'f, R> {
    inner: DecodeReader<'f, R>,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    state: CsvState,
    /// A quote held back while dropping an oversized quoted field: it is either the
    /// first half of a doubled quote (dropped with its twin) or the closing quote.
    held_quote: bool,
    prev_cr: bool,
    field_len: usize,
    /// Fields of the current record so far.
    fields: usize,
    record_len: usize,
    max_field: usize,
    max_record: usize,
    records: u64,
    blank_lines: u64,
    current_row: u64,
    rows: VecDeque<u64>,
    unterminated: Option<u64>,
    failure: Option<InputError>,
}

impl<'f, R: Read> CsvGuard<'f, R> {
    fn new(inner: DecodeReader<'f, R>, max_field: usize, max_record: usize) -> Self {
        Self {
            inner,
            buf: vec![0; CHUNK_BYTES].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            state: CsvState::StartRecord,
            held_quote: false,
            prev_cr: false,
            field_len: 0,
            fields: 0,
            record_len: 0,
            max_field,
            max_record,
            records: 0,
            blank_lines: 0,
            current_row: 0,
            rows: VecDeque::new(),
            unterminated: None,
            failure: None,
        }
    }

    /// The error behind an I/O error the csv reader reports, if it was ours.
    fn take_failure(&mut self) -> Option<InputError> {
        self.failure.take().or_else(|| self.inner.failure.take())
    }

    /// Processes `input` into `out`; returns (bytes consumed, bytes written).
    fn process(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let mut i = 0;
        let mut o = 0;
        // Where in `out` the current record's bytes start.
        let mut record_start = 0;
        while i < input.len() && o < out.len() && self.failure.is_none() {
            let c = input[i];
            match self.state {
                CsvState::StartRecord => {
                    if c == b'\r' || c == b'\n' {
                        if !(c == b'\n' && self.prev_cr) {
                            self.blank_lines += 1;
                        }
                        self.prev_cr = c == b'\r';
                        out[o] = c;
                        o += 1;
                        i += 1;
                        continue;
                    }
                    self.account(o - record_start);
                    if self.failure.is_some() {
                        break;
                    }
                    self.prev_cr = false;
                    self.records += 1;
                    self.current_row = self.records + self.blank_lines;
                    self.rows.push_back(self.current_row);
                    self.record_len = 0;
                    record_start = o;
                    self.fields = 1;
                    self.field_len = 0;
                    self.state = CsvState::StartField;
                    continue;
                }
                CsvState::StartField => {
                    self.field_len = 0;
                    match c {
                        b'"' => self.state = CsvState::InQuoted,
                        b',' => self.add_field(),
                        b'\r' | b'\n' => self.end_record(c),
                        _ => {
                            self.state = CsvState::InField;
                            continue;
                        }
                    }
                    out[o] = c;
                    o += 1;
                    i += 1;
                }
                CsvState::InField => {
                    let run = input[i..]
                        .iter()
                        .position(|&b| b == b',' || b == b'\r' || b == b'\n')
                        .unwrap_or(input.len() - i);
                    if run > 0 {
                        let (taken, written) = self.content(&input[i..i + run], &mut out[o..]);
                        i += taken;
                        o += written;
                        continue;
                    }
                    if c == b',' {
                        self.state = CsvState::StartField;
                        self.add_field();
                    } else {
                        self.end_record(c);
                    }
                    out[o] = c;
                    o += 1;
                    i += 1;
                }
                CsvState::InQuoted => {
                    let run = input[i..]
                        .iter()
                        .position(|&b| b == b'"')
                        .unwrap_or(input.len() - i);
                    if run > 0 {
                        let (taken, written) = self.content(&input[i..i + run], &mut out[o..]);
                        i += taken;
                        o += written;
                        continue;
                    }
                    self.state = CsvState::QuoteInQuoted;
                    i += 1;
                    if self.field_len > self.max_field {
                        self.held_quote = true;
                    } else {
                        out[o] = c;
                        o += 1;
                    }
                }
                CsvState::QuoteInQuoted => {
                    if c == b'"' {
                        // A doubled quote: one literal quote.
                        if self.held_quote {
                            self.held_quote = false;
                        } else {
                            self.field_len += 1;
                            out[o] = c;
                            o += 1;
                        }
                        self.state = CsvState::InQuoted;
                        i += 1;
                        continue;
                    }
                    if self.held_quote {
                        // It was the closing quote after all.
                        self.held_quote = false;
                        out[o] = b'"';
                        o += 1;
                        continue;
                    }
                    match c {
                        b',' => {
                            self.state = CsvState::StartField;
                            self.add_field();
                        }
                        b'\r' | b'\n' => self.end_record(c),
                        _ => {
                            self.state = CsvState::InField;
                            continue;
                        }
                    }
                    out[o] = c;
                    o += 1;
                    i += 1;
                }
            }
        }
        self.account(o - record_start);
        (i, o)
    }

    /// Adds bytes passed on for the current record; fails (on the next read, after the
    /// records before it are delivered) when the record is too long.
    fn account(&mut self, bytes: usize) {
        self.record_len += bytes;
        if self.record_len > self.max_record && self.failure.is_none() {
            self.failure = Some(InputError::RecordTooLarge {
                row: self.current_row,
                limit: self.max_record,
            });
        }
    }

    fn add_field(&mut self) {
        self.fields += 1;
        if self.fields > MAX_FIELDS && self.failure.is_none() {
            self.failure = Some(InputError::TooManyFields {
                row: self.current_row,
                limit: MAX_FIELDS,
            });
        }
    }

    /// Content bytes of a field: passes up to `max_field + 1` of them, drops the rest.
    fn content(&mut self, run: &[u8], out: &mut [u8]) -> (usize, usize) {
        let allowance = (self.max_field + 1).saturating_sub(self.field_len);
        let pass = run.len().min(allowance).min(out.len());
        out[..pass].copy_from_slice(&run[..pass]);
        self.field_len += pass;
        if pass < run.len().min(allowance) {
            // Output full: come back for the rest.
            return (pass, pass);
        }
        (run.len(), pass)
    }

    fn end_record(&mut self, c: u8) {
        self.state = CsvState::StartRecord;
        self.prev_cr = c == b'\r';
    }
}

impl<R: Read> Read for CsvGuard<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let mut written = 0;
        loop {
            if self.failure.is_some() {
                if written > 0 {
                    return Ok(written);
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, "record refused"));
            }
            if self.pos == self.len {
                if written > 0 {
                    return Ok(written);
                }
                if !self.eof {
                    self.len = self.inner.read(&mut self.buf)?;
                    self.pos = 0;
                    self.eof = self.len == 0;
                    continue;
                }
                // End of the file.
                if self.held_quote {
                    self.held_quote = false;
                    out[0] = b'"';
                    return Ok(1);
                }
                if self.state == CsvState::InQuoted {
                    self.unterminated = Some(self.current_row);
                }
                return Ok(0);
            }
            let buf = std::mem::take(&mut self.buf);
            let (taken, n) = self.process(&buf[self.pos..self.len], &mut out[written..]);
            self.buf = buf;
            self.pos += taken;
            written += n;
            if written == out.len() {
                return Ok(written);
            }
        }
    }
}

type CsvReader<'f> = csv::Reader<CsvGuard<'f, File>>;

/// The next record and its row, or None at the end of the file.
fn next_csv_record(
    reader: &mut CsvReader<'_>,
    record: &mut csv::ByteRecord,
) -> Result<Option<u64>, InputError> {
    match reader.read_byte_record(record) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => {
            let guard = reader.get_mut();
            if let Some(failure) = guard.take_failure() {
                return Err(failure);
            }
            let row = guard.current_row;
            return Err(match e.into_kind() {
                csv::ErrorKind::Io(e) => InputError::Io(e),
                other => InputError::MalformedCsv {
                    row,
                    detail: format!("{other:?}"),
                },
            });
        }
    }
    let guard = reader.get_mut();
    let row = guard.rows.pop_front().unwrap_or(guard.current_row);
    if guard.unterminated == Some(row) && guard.rows.is_empty() {
        return Err(InputError::Truncated { row });
    }
    Ok(Some(row))
}

/// Decoder output is UTF-8 and fields are cut at ASCII bytes, so this is lossless;
/// only a field cut short by the guard may end inside a character.
fn field_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_csv(
    mut file: File,
    options: &InputOptions,
    feed: &Feed,
    progress: Progress<'_>,
) -> Result<TextEncoding, InputError> {
    let encoding = match options.encoding {
        Some(e) => e,
        None => detect_encoding(&mut file)?,
    };
    let guard = CsvGuard::new(
        DecodeReader::new(file, encoding, progress),
        options.max_field_bytes,
        options.record_limit(),
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(guard);
    let mut record = csv::ByteRecord::new();

    let Some(header_row) = next_csv_record(&mut reader, &mut record)? else {
        return Err(InputError::Empty);
    };
    if record.iter().any(|f| f.len() > options.max_field_bytes) {
        return Err(InputError::FieldTooLarge {
            row: header_row,
            limit: options.max_field_bytes,
        });
    }
    let headers = check_headers(record.iter().map(field_text).collect(), true)?;
    feed.headers(&headers)?;

    while let Some(row) = next_csv_record(&mut reader, &mut record)? {
        let out = if let Some(col) = record
            .iter()
            .position(|f| f.len() > options.max_field_bytes)
        {
            field_too_large(
                Place::Row,
                row,
                &csv_text(&record),
                &format!("第 {} 列", col + 1),
                &format!("field {}", col + 1),
                options.max_field_bytes,
            )
        } else if record.len() != headers.len() {
            ragged(row, csv_text(&record), record.len(), headers.len())
        } else if let Some(fields) = record
            .iter()
            .map(|f| std::str::from_utf8(f).ok())
            .collect::<Option<Vec<&str>>>()
        {
            // The usual case: nothing to copy before the sink has checked the row.
            feed.fields(row, &fields)?;
            continue;
        } else {
            RawRecord::Fields {
                row,
                fields: record.iter().map(field_text).collect(),
            }
        };
        feed.record(out)?;
    }
    Ok(encoding)
}

// ---------------------------------------------------------------------------
// XLSX

/// Checks one zip entry's declared sizes; `total` accumulates the uncompressed sizes.
fn check_zip_entry(
    entry: &str,
    compressed: u64,
    uncompressed: u64,
    total: &mut u64,
    max_total: u64,
    max_ratio: u64,
) -> Result<(), InputError> {
    let bomb = |kind| InputError::ZipBomb {
        entry: entry.to_string(),
        compressed,
        uncompressed,
        kind,
    };
    *total = total.saturating_add(uncompressed);
    if *total > max_total {
        return Err(bomb(ZipBombKind::TotalTooLarge {
            total: *total,
            limit: max_total,
        }));
    }
    if compressed == 0 && uncompressed > 0 {
        return Err(bomb(ZipBombKind::NothingCompressed));
    }
    if uncompressed > RATIO_EXEMPT_BYTES && uncompressed > compressed.saturating_mul(max_ratio) {
        return Err(bomb(ZipBombKind::RatioTooHigh { limit: max_ratio }));
    }
    Ok(())
}

/// COL-1: refuses a zip bomb from the central directory alone, before anything is
/// decompressed. (When an entry is read, the zip crate also stops at its declared size.)
fn check_zip<R: Read + Seek>(reader: R, options: &InputOptions) -> Result<(), InputError> {
    let archive = zip::ZipArchive::new(reader).map_err(|e| InputError::NotXlsx {
        detail: e.to_string(),
    })?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_data(i).map_err(|e| InputError::NotXlsx {
            detail: e.to_string(),
        })?;
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
        };
        check_zip_entry(
            &name,
            entry.compressed_size(),
            entry.size(),
            &mut total,
            options.max_xlsx_uncompressed,
            options.max_xlsx_ratio,
        )?;
    }
    Ok(())
}

/// Counts the bytes read from the file, for progress.
struct CountingReader<'f, R> {
    inner: R,
    count: u64,
    progress: Progress<'f>,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        (self.progress)(self.count);
        Ok(n)
    }
}

impl<R: Seek> Seek for CountingReader<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Column letters as Excel shows them (0 → A, 26 → AA).
fn column_letter(mut col: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A cell as text, or its error value (`#DIV/0!`).
fn cell_text(value: &DataRef<'_>) -> Result<String, String> {
    Ok(match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => datetime_text(d),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(e.to_string()),
        DataRef::Empty => String::new(),
    })
}

/// Whole numbers without ".0"; others in the shortest form that reads back the same.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Dates as `YYYY-MM-DD`, date-times as `YYYY-MM-DDTHH:MM:SS` (with `.mmm` when there
/// are milliseconds), a time of day alone as `HH:MM:SS`, durations as `H:MM:SS`.
fn datetime_text(d: &calamine::ExcelDateTime) -> String {
    let value = d.as_f64();
    if d.is_duration() {
        let seconds = (value * 86_400.0).round() as i64;
        let sign = if seconds < 0 { "-" } else { "" };
        let s = seconds.abs();
        return format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
    let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
    let time = if ms > 0 {
        format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}")
    };
    if (0.0..1.0).contains(&value) {
        time
    } else if (h, mi, s, ms) == (0, 0, 0, 0) {
        format!("{y:04}-{mo:02}-{da:02}")
    } else {
        format!("{y:04}-{mo:02}-{da:02}T{time}")
    }
}

/// One sheet row being assembled from its cells.
#[derive(Default)]
struct SheetRow {
    cells: Vec<String>,
    /// The first cell holding an error value: (column, error text).
    error: Option<(usize, String)>,
    /// The column of the row's last cell so far.
    last_column: Option<u32>,
}

fn read_xlsx(
    mut file: File,
    options: &InputOptions,
    feed: &Feed,
    progress: Progress<'_>,
) -> Result<(), InputError> {
    check_zip(&mut file, options)?;
    file.seek(SeekFrom::Start(0))?;
    let reader = BufReader::new(CountingReader {
        inner: file,
        count: 0,
        progress,
    });
    let mut workbook: Xlsx<_> = Xlsx::new(reader).map_err(|e| InputError::NotXlsx {
        detail: e.to_string(),
    })?;
    // The first visible worksheet, else the first worksheet.
    let worksheets: Vec<&calamine::Sheet> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .collect();
    let sheet = worksheets
        .iter()
        .find(|s| s.visible == SheetVisible::Visible)
        .or(worksheets.first())
        .map(|s| s.name.clone())
        .ok_or(InputError::NoSheet)?;
    let malformed = |e: calamine::XlsxError| InputError::MalformedXlsx {
        detail: e.to_string(),
    };
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(malformed)?;

    let mut headers: Option<Vec<String>> = None;
    let mut current: Option<(u32, SheetRow)> = None;
    let mut last_row: Option<u32> = None;
    // A sheet lists its rows, and each row its cells, in order (ECMA-376). A row or
    // a cell given twice would be merged into one, or two records would share a
    // row number, which places a row in its version (COL-2) and among the rejected
    // rows: refused as damaged, so that nothing is lost without a word.
    let out_of_order = |zh: String, en: String| InputError::MalformedXlsx {
        detail: format!("{zh} / {en}"),
    };
    loop {
        let cell = cells.next_cell().map_err(malformed)?;
        let row_index = cell.as_ref().map(|c| c.get_position().0);
        if current.as_ref().map(|(r, _)| Some(*r)) != Some(row_index) {
            if let Some((r, row)) = current.take() {
                sheet_row(u64::from(r) + 1, row, &mut headers, options, feed)?;
            }
            if let (Some(last), Some(next)) = (last_row, row_index) {
                if next <= last {
                    let (next, last) = (next + 1, last + 1);
                    return Err(out_of_order(
                        format!("第 {next} 行出现在第 {last} 行之后"),
                        format!("row {next} comes after row {last}"),
                    ));
                }
            }
            last_row = row_index.or(last_row);
        }
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        let value = cell.get_value();
        let (_, row) = current.get_or_insert_with(|| (r, SheetRow::default()));
        if let Some(last) = row.last_column.filter(|last| c <= *last) {
            let cell = format!("{}{}", column_letter(c as usize), r + 1);
            let after = format!("{}{}", column_letter(last as usize), r + 1);
            return Err(out_of_order(
                format!("单元格 {cell} 出现在 {after} 之后"),
                format!("cell {cell} comes after {after}"),
            ));
        }
        row.last_column = Some(c);
        if *value == DataRef::Empty {
            continue;
        }
        let c = c as usize;
        if c >= MAX_FIELDS {
            return Err(InputError::TooManyFields {
                row: u64::from(r) + 1,
                limit: MAX_FIELDS,
            });
        }
        if row.cells.len() <= c {
            row.cells.resize(c + 1, String::new());
        }
        row.cells[c] = match cell_text(value) {
            Ok(text) => text,
            Err(error) => {
                if row.error.is_none() {
                    row.error = Some((c, error.clone()));
                }
                error
            }
        };
    }
    if headers.is_none() {
        return Err(InputError::Empty);
    }
    Ok(())
}

/// Turns one assembled sheet row into the header or a record. Fully empty rows are
/// skipped (this also drops trailing empty rows).
fn sheet_row(
    row: u64,
    mut sheet_row: SheetRow,
    headers: &mut Option<Vec<String>>,
    options: &InputOptions,
    feed: &Feed,
) -> Result<(), InputError> {
    let used = sheet_row
        .cells
        .iter()
        .rposition(|c| !c.is_empty())
        .map_or(0, |i| i + 1);
    if used == 0 && sheet_row.error.is_none() {
        return Ok(());
    }
    sheet_row
        .cells
        .truncate(used.max(sheet_row.error.as_ref().map_or(0, |(c, _)| c + 1)));
    let Some(names) = headers else {
        if sheet_row
            .cells
            .iter()
            .any(|c| c.len() > options.max_field_bytes)
        {
            return Err(InputError::FieldTooLarge {
                row,
                limit: options.max_field_bytes,
            });
        }
        let names = check_headers(sheet_row.cells, true)?;
        feed.headers(&names)?;
        *headers = Some(names);
        return Ok(());
    };
    let cells = sheet_row.cells;
    let record = if let Some((col, error)) = sheet_row.error {
        let letter = column_letter(col);
        bad(
            row,
            csv_text(&cells),
            bad_code::CELL_ERROR,
            format!("第 {row} 行 {letter} 列是错误值 {error}"),
            format!("row {row}, column {letter} holds the error value {error}"),
        )
    } else if cells.len() > names.len() {
        ragged(row, csv_text(&cells), cells.len(), names.len())
    } else if let Some(col) = cells.iter().position(|c| c.len() > options.max_field_bytes) {
        let letter = column_letter(col);
        field_too_large(
            Place::Row,
            row,
            &csv_text(&cells),
            &format!(" {letter} 列"),
            &format!("column {letter}"),
            options.max_field_bytes,
        )
    } else {
        let mut fields = cells;
        fields.resize(names.len(), String::new());
        RawRecord::Fields { row, fields }
    };
    feed.record(record)
}

// ---------------------------------------------------------------------------
// JSON and NDJSON

/// A byte-at-a-time view of a reader with its own buffer.
struct ByteReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
}

impl<R: Read> ByteReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            buf: vec![0; CHUNK_BYTES].into_boxed_slice(),
            pos: 0,
            len: 0,
        }
    }

    fn fill(&mut self) -> io::Result<bool> {
        if self.pos == self.len {
            self.len = self.inner.read(&mut self.buf)?;
            self.pos = 0;
        }
        Ok(self.pos < self.len)
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.pos += 1;
        }
        Ok(b)
    }

    fn skip_whitespace(&mut self) -> io::Result<()> {
        while let Some(b) = self.peek()? {
            if !is_json_whitespace(b) {
                break;
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// Appends the next line (without its line feed) to `line`. Ok(false) at the end of
    /// the input; Err(None) when the line is longer than `limit`.
    fn read_line(&mut self, line: &mut Vec<u8>, limit: usize) -> Result<bool, Option<io::Error>> {
        let mut any = false;
        loop {
            if !self.fill().map_err(Some)? {
                return Ok(any);
            }
            any = true;
            let chunk = &self.buf[self.pos..self.len];
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(n) => (n, true),
                None => (chunk.len(), false),
            };
            if line.len() + take > limit {
                return Err(None);
            }
            line.extend_from_slice(&chunk[..take]);
            self.pos += take + usize::from(done);
            if done {
                return Ok(true);
            }
        }
    }
}

fn is_json_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Lets I/O errors from the decoder surface as the encoding error behind them.
fn decode_failure<R>(source: &mut ByteReader<DecodeReader<'_, R>>, e: io::Error) -> InputError {
    source.inner.failure.take().unwrap_or(InputError::Io(e))
}

fn read_json(
    file: File,
    options: &InputOptions,
    feed: &Feed,
    progress: Progress<'_>,
) -> Result<TextEncoding, InputError> {
    if options.columns.is_empty() {
        return Err(InputError::NoColumns);
    }
    let columns = check_headers(options.columns.clone(), false)?;
    let index: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let encoding = options.encoding.unwrap_or(TextEncoding::Utf8);
    let mut source = ByteReader::new(DecodeReader::new(file, encoding, progress));
    let mapper = ObjectMapper {
        columns: &columns,
        index,
        max_field: options.max_field_bytes,
    };
    if options.format == InputFormat::Ndjson {
        feed.headers(&columns)?;
        read_ndjson_lines(&mut source, &mapper, options, feed)?;
    } else {
        read_json_array(&mut source, &mapper, options, feed)?;
    }
    Ok(encoding)
}

fn read_ndjson_lines(
    source: &mut ByteReader<DecodeReader<'_, File>>,
    mapper: &ObjectMapper,
    options: &InputOptions,
    feed: &Feed,
) -> Result<(), InputError> {
    let limit = options.record_limit();
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        match source.read_line(&mut line, limit) {
            Ok(false) => return Ok(()),
            Ok(true) => line_no += 1,
            Err(None) => {
                return Err(InputError::RecordTooLarge {
                    row: line_no + 1,
                    limit,
                })
            }
            Err(Some(e)) => return Err(decode_failure(source, e)),
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(|&b| is_json_whitespace(b)) {
            continue;
        }
        let record = match serde_json::from_slice::<serde::de::IgnoredAny>(&line) {
            Ok(_) => mapper.map(&line, line_no, Place::Line),
            Err(e) => bad(
                line_no,
                field_text(&line),
                bad_code::MALFORMED_JSON,
                format!("第 {line_no} 行不是有效的 JSON：{e}"),
                format!("line {line_no} is not valid JSON: {e}"),
            ),
        };
        feed.record(record)?;
    }
}

fn read_json_array(
    source: &mut ByteReader<DecodeReader<'_, File>>,
    mapper: &ObjectMapper,
    options: &InputOptions,
    feed: &Feed,
) -> Result<(), InputError> {
    let limit = options.record_limit();
    let io = |source: &mut ByteReader<DecodeReader<'_, File>>, e| decode_failure(source, e);
    let syntax = |element: u64, detail: &str| InputError::MalformedJson {
        element,
        detail: detail.to_string(),
    };
    if let Err(e) = source.skip_whitespace() {
        return Err(io(source, e));
    }
    match source.next_byte() {
        Ok(Some(b'[')) => {}
        Ok(Some(_)) => return Err(InputError::NotAnArray),
        Ok(None) => return Err(InputError::Empty),
        Err(e) => return Err(io(source, e)),
    }
    feed.headers(mapper.columns)?;
    let mut element = 0u64;
    let mut text = Vec::new();
    let closed = |source: &mut ByteReader<DecodeReader<'_, File>>| -> Result<bool, io::Error> {
        source.skip_whitespace()?;
        if source.peek()? == Some(b']') {
            source.next_byte()?;
            return Ok(true);
        }
        Ok(false)
    };
    let mut done = closed(source).map_err(|e| io(source, e))?;
    while !done {
        element += 1;
        text.clear();
        match scan_json_value(source, &mut text, limit) {
            Ok(()) => {}
            Err(ScanError::Io(e)) => return Err(io(source, e)),
            Err(ScanError::TooLarge) => {
                return Err(InputError::RecordTooLarge {
                    row: element,
                    limit,
                })
            }
            Err(ScanError::Syntax(detail)) => return Err(syntax(element, detail)),
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&text) {
            return Err(syntax(element, &e.to_string()));
        }
        let record = mapper.map(&text, element, Place::Element);
        feed.record(record)?;
        let next = source
            .skip_whitespace()
            .and_then(|_| source.next_byte())
            .map_err(|e| io(source, e))?;
        match next {
            Some(b',') => {
                if closed(source).map_err(|e| io(source, e))? {
                    return Err(syntax(element, "a ',' is followed by ']'"));
                }
            }
            Some(b']') => done = true,
            Some(_) => return Err(syntax(element, "expected ',' or ']' after the element")),
            None => return Err(syntax(element, "the file ends before the array's ']'")),
        }
    }
    source.skip_whitespace().map_err(|e| io(source, e))?;
    if source.peek().map_err(|e| io(source, e))?.is_some() {
        return Err(syntax(
            element,
            "there is more after the array's closing ']'",
        ));
    }
    Ok(())
}

enum ScanError {
    Io(io::Error),
    TooLarge,
    Syntax(&'static str),
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// Copies the bytes of one JSON value into `out` without parsing it: strings (with
/// escapes) and bracket depth are tracked to find where it ends. serde_json checks it.
fn scan_json_value<R: Read>(
    source: &mut ByteReader<R>,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), ScanError> {
    let first = source
        .peek()?
        .ok_or(ScanError::Syntax("the file ends where a value should be"))?;
    let push = |out: &mut Vec<u8>, b: u8| {
        out.push(b);
        if out.len() > limit {
            Err(ScanError::TooLarge)
        } else {
            Ok(())
        }
    };
    match first {
        b'{' | b'[' | b'"' => {
            let mut depth = 0usize;
            let mut in_string = false;
            let mut escaped = false;
            loop {
                let b = source
                    .next_byte()?
                    .ok_or(ScanError::Syntax("the file ends inside a value"))?;
                push(out, b)?;
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            return Ok(());
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return Ok(());
                        }
                    }
                    _ => {}
                }
            }
        }
        b']' | b',' | b'}' | b':' => Err(ScanError::Syntax("expected a value")),
        _ => {
            while let Some(b) = source.peek()? {
                if is_json_whitespace(b) || matches!(b, b',' | b']' | b'}' | b'[' | b'{') {
                    break;
                }
                source.next_byte()?;
                push(out, b)?;
            }
            Ok(())
        }
    }
}

/// Maps a JSON object (already checked to be valid JSON) onto the columns.
struct ObjectMapper<'a> {
    columns: &'a [String],
    index: HashMap<&'a str, usize>,
    max_field: usize,
}

impl ObjectMapper<'_> {
    fn map(&self, text: &[u8], row: u64, place: Place) -> RawRecord {
        let raw = || field_text(text);
        let value = trim_json(text);
        if value.first() != Some(&b'{') {
            return bad(
                row,
                raw(),
                bad_code::NOT_AN_OBJECT,
                format!("{}不是 JSON 对象", place.zh(row)),
                format!("{} is not a JSON object", place.en(row)),
            );
        }
        let mut fields = vec![String::new(); self.columns.len()];
        let mut seen = vec![false; self.columns.len()];
        for (key, value) in object_members(value) {
            let Some(&i) = self.index.get(key.as_str()) else {
                return bad(
                    row,
                    raw(),
                    bad_code::UNKNOWN_FIELD,
                    format!("{}有不在列名中的字段“{key}”", place.zh(row)),
                    format!(
                        "{} has the field \"{key}\", which is not one of the columns",
                        place.en(row)
                    ),
                );
            };
            if seen[i] {
                return bad(
                    row,
                    raw(),
                    bad_code::DUPLICATE_KEY,
                    format!("{}的字段“{key}”出现了不止一次", place.zh(row)),
                    format!("{} has the field \"{key}\" more than once", place.en(row)),
                );
            }
            seen[i] = true;
            let text = match value.first() {
                Some(b'"') => serde_json::from_slice::<String>(value).unwrap_or_default(),
                Some(b'n') => String::new(),
                Some(b'{') | Some(b'[') => {
                    return bad(
                        row,
                        raw(),
                        bad_code::NESTED_VALUE,
                        format!("{}的字段“{key}”是数组或对象，只接受单个值", place.zh(row)),
                        format!(
                            "{} has an array or object in the field \"{key}\"; only single values are accepted",
                            place.en(row)
                        ),
                    )
                }
                // Numbers keep their JSON text; true and false are their own text.
                _ => field_text(value),
            };
            if text.len() > self.max_field {
                return field_too_large(
                    place,
                    row,
                    &raw(),
                    &format!("的字段“{key}”"),
                    &format!("field \"{key}\""),
                    self.max_field,
                );
            }
            fields[i] = text;
        }
        RawRecord::Fields { row, fields }
    }
}

fn trim_json(mut text: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = text {
        if !is_json_whitespace(*first) {
            break;
        }
        text = rest;
    }
    while let [rest @ .., last] = text {
        if !is_json_whitespace(*last) {
            break;
        }
        text = rest;
    }
    text
}

/// The members of a valid JSON object, in order: (key, value's JSON text). Lazy, so
/// that a record with a stray key stops at it.
fn object_members(object: &[u8]) -> Members<'_> {
    let mut members = Members { object, i: 1 };
    members.skip_whitespace();
    members
}

struct Members<'a> {
    object: &'a [u8],
    i: usize,
}

impl Members<'_> {
    fn skip_whitespace(&mut self) {
        while self.i < self.object.len() && is_json_whitespace(self.object[self.i]) {
            self.i += 1;
        }
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = (String, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let object = self.object;
        if self.i >= object.len() || object[self.i] != b'"' {
            return None;
        }
        let key_end = value_end(object, self.i);
        let key_text = &object[self.i..key_end];
        let key = serde_json::from_slice::<String>(key_text)
            .unwrap_or_else(|_| String::from_utf8_lossy(key_text).into_owned());
        self.i = key_end;
        self.skip_whitespace();
        self.i += 1; // the ':'
        self.skip_whitespace();
        let start = self.i;
        self.i = value_end(object, start);
        let value = &object[start..self.i];
        self.skip_whitespace();
        if self.i < object.len() && object[self.i] == b',' {
            self.i += 1;
            self.skip_whitespace();
        }
        Some((key, value))
    }
}

/// Where the JSON value starting at `start` ends (exclusive), in valid JSON.
fn value_end(text: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = start;
    while i < text.len() {
        let b = text[i];
        i += 1;
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
                if depth == 0 {
                    return i;
                }
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth <= 1 {
                    return if depth == 1 { i } else { i - 1 };
                }
                depth -= 1;
            }
            b',' if depth == 0 => return i - 1,
            b if depth == 0 && is_json_whitespace(b) => return i - 1,
            _ => {}
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(compressed: u64, uncompressed: u64) -> Result<(), InputError> {
        let mut total = 0;
        check_zip_entry(
            "xl/worksheets/sheet1.xml",
            compressed,
            uncompressed,
            &mut total,
            512 << 20,
            100,
        )
    }

    #[test]
    fn col_1_zip_entry_sizes_are_checked() {
        assert!(check(10_000, 500_000).is_ok());
        // Small entries are exempt from the ratio, not from "nothing compressed".
        assert!(check(100, 900_000).is_ok());
        assert!(matches!(
            check(0, 10),
            Err(InputError::ZipBomb {
                kind: ZipBombKind::NothingCompressed,
                ..
            })
        ));
        let err = check(1 << 20, 200 << 20).unwrap_err();
        assert_eq!(err.code(), "input.zip_bomb");
        assert!(matches!(
            err,
            InputError::ZipBomb {
                kind: ZipBombKind::RatioTooHigh { limit: 100 },
                ..
            }
        ));
        let mut total = 0;
        assert!(check_zip_entry("a", 300 << 20, 300 << 20, &mut total, 512 << 20, 100).is_ok());
        let err = check_zip_entry("b", 300 << 20, 300 << 20, &mut total, 512 << 20, 100);
        assert!(matches!(
            err,
            Err(InputError::ZipBomb {
                kind: ZipBombKind::TotalTooLarge { .. },
                ..
            })
        ));
    }

    #[test]
    fn object_members_split_in_order() {
        let text = br#"{ "a" : "x,}\"" , "b":[1,{"c":2}],"d":12.50,"e":null ,"f\u00e9":true}"#;
        let got: Vec<(String, String)> = object_members(text)
            .map(|(k, v)| (k, String::from_utf8(v.to_vec()).unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), r#""x,}\"""#.to_string()),
                ("b".to_string(), r#"[1,{"c":2}]"#.to_string()),
                ("d".to_string(), "12.50".to_string()),
                ("e".to_string(), "null".to_string()),
                ("fé".to_string(), "true".to_string()),
            ]
        );
        assert_eq!(object_members(b"{}").count(), 0);
        assert_eq!(object_members(b"{ }").count(), 0);
    }

    #[test]
    fn columns_are_lettered_like_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn floats_read_as_written() {
        assert_eq!(float_text(42.0), "42");
        assert_eq!(float_text(-3.0), "-3");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(1.5e20), "150000000000000000000");
    }
}
