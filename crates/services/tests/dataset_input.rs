//! COL-1: delivered files read as a stream of raw records — CSV in UTF-8/GBK/GB18030,
//! XLSX, JSON and NDJSON — where every record comes out as fields or as a bad record
//! with its raw text and a reason, and a file that cannot be read stops with a clear
//! error code.
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use gongshu_services::dataset_input::{
    read_file, InputError, InputFormat, InputOptions, InputSummary, RawRecord, RecordSink,
    TextEncoding,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

#[derive(Default)]
struct Collect {
    headers: Vec<String>,
    header_calls: usize,
    records: Vec<RawRecord>,
    progress: Vec<u64>,
    /// Refuse the record after this many.
    stop_after: Option<usize>,
}

impl RecordSink for Collect {
    fn headers(&mut self, headers: &[String]) -> Result<(), String> {
        self.header_calls += 1;
        assert!(self.records.is_empty(), "headers come before records");
        self.headers = headers.to_vec();
        Ok(())
    }

    fn record(&mut self, record: RawRecord) -> Result<(), String> {
        if self.stop_after == Some(self.records.len()) {
            return Err("已取消 cancelled".to_string());
        }
        self.records.push(record);
        Ok(())
    }

    fn progress(&mut self, bytes_read: u64) {
        self.progress.push(bytes_read);
    }
}

impl Collect {
    /// (row, fields) of the good records.
    fn fields(&self) -> Vec<(u64, Vec<&str>)> {
        self.records
            .iter()
            .filter_map(|r| match r {
                RawRecord::Fields { row, fields } => {
                    Some((*row, fields.iter().map(String::as_str).collect()))
                }
                RawRecord::Bad { .. } => None,
            })
            .collect()
    }

    /// (row, code, raw, message_zh, message_en) of the bad records.
    fn bad(&self) -> Vec<(u64, &'static str, &str, &str, &str)> {
        self.records
            .iter()
            .filter_map(|r| match r {
                RawRecord::Bad {
                    row,
                    raw,
                    code,
                    message_zh,
                    message_en,
                } => Some((
                    *row,
                    *code,
                    raw.as_str(),
                    message_zh.as_str(),
                    message_en.as_str(),
                )),
                RawRecord::Fields { .. } => None,
            })
            .collect()
    }
}

struct Input {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn write(name: &str, bytes: &[u8]) -> Input {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    Input { _dir: dir, path }
}

fn read_path(path: &Path, options: &InputOptions) -> (Result<InputSummary, InputError>, Collect) {
    let mut sink = Collect::default();
    let result = read_file(path, options, &mut sink);
    (result, sink)
}

fn read(name: &str, bytes: &[u8], options: &InputOptions) -> (InputSummary, Collect) {
    let input = write(name, bytes);
    let (result, sink) = read_path(&input.path, options);
    (result.expect("the file reads"), sink)
}

fn read_err(name: &str, bytes: &[u8], options: &InputOptions) -> (InputError, Collect) {
    let input = write(name, bytes);
    let (result, sink) = read_path(&input.path, options);
    match result {
        Ok(summary) => panic!("expected an error, read {summary:?}"),
        Err(e) => (e, sink),
    }
}

fn csv() -> InputOptions {
    InputOptions::new(InputFormat::Csv)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------
// Formats and encodings

#[test]
fn formats_and_encodings_parse() {
    assert_eq!(
        InputFormat::from_file_name("人口.CSV"),
        Some(InputFormat::Csv)
    );
    assert_eq!(InputFormat::from_file_name("a.txt"), Some(InputFormat::Csv));
    assert_eq!(
        InputFormat::from_file_name("a.b.Xlsx"),
        Some(InputFormat::Xlsx)
    );
    assert_eq!(
        InputFormat::from_file_name("a.json"),
        Some(InputFormat::Json)
    );
    assert_eq!(
        InputFormat::from_file_name("a.jsonl"),
        Some(InputFormat::Ndjson)
    );
    assert_eq!(
        InputFormat::from_file_name("a.ndjson"),
        Some(InputFormat::Ndjson)
    );
    assert_eq!(InputFormat::from_file_name("a.xls"), None);
    assert_eq!(InputFormat::from_file_name("csv"), None);
    for f in [
        InputFormat::Csv,
        InputFormat::Xlsx,
        InputFormat::Json,
        InputFormat::Ndjson,
    ] {
        assert_eq!(InputFormat::parse(f.code()), Some(f));
    }
    assert_eq!(InputFormat::parse("parquet"), None);
    assert_eq!(TextEncoding::parse("UTF-8"), Some(TextEncoding::Utf8));
    assert_eq!(TextEncoding::parse("utf8"), Some(TextEncoding::Utf8));
    assert_eq!(TextEncoding::parse("GBK"), Some(TextEncoding::Gbk));
    assert_eq!(TextEncoding::parse("gb18030"), Some(TextEncoding::Gb18030));
    assert_eq!(TextEncoding::parse("big5"), None);
    for e in [TextEncoding::Utf8, TextEncoding::Gbk, TextEncoding::Gb18030] {
        assert_eq!(TextEncoding::parse(e.code()), Some(e));
    }
}

// ---------------------------------------------------------------------------
// CSV

#[test]
fn csv_utf8_reads_rows() {
    let (summary, sink) = read(
        "a.csv",
        " 姓名 ,城市\r\n张三,北京市\r\n李四,\r\n".as_bytes(),
        &csv(),
    );
    assert_eq!(sink.header_calls, 1);
    assert_eq!(sink.headers, strings(&["姓名", "城市"]));
    assert_eq!(
        sink.fields(),
        vec![(2, vec!["张三", "北京市"]), (3, vec!["李四", ""])]
    );
    assert_eq!(
        summary,
        InputSummary {
            format: InputFormat::Csv,
            encoding: Some(TextEncoding::Utf8),
            records: 2,
            bad_records: 0,
            bytes: " 姓名 ,城市\r\n张三,北京市\r\n李四,\r\n".len() as u64,
        }
    );
    assert_eq!(sink.progress.last(), Some(&summary.bytes));
}

#[test]
fn csv_bom_is_stripped() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice("编号,名称\n1,甲\n".as_bytes());
    let (summary, sink) = read("a.csv", &bytes, &csv());
    assert_eq!(sink.headers, strings(&["编号", "名称"]));
    assert_eq!(sink.fields(), vec![(2, vec!["1", "甲"])]);
    assert_eq!(summary.encoding, Some(TextEncoding::Utf8));
    // Declared UTF-8 strips it too.
    let (_, sink) = read("a.csv", &bytes, &csv().with_encoding(TextEncoding::Utf8));
    assert_eq!(sink.headers, strings(&["编号", "名称"]));
}

#[test]
fn csv_gbk_is_detected() {
    let text = "姓名,城市\n张三,北京市\n王五,广州市\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let (summary, sink) = read("gbk.csv", &bytes, &csv());
    assert_eq!(summary.encoding, Some(TextEncoding::Gb18030));
    assert_eq!(sink.headers, strings(&["姓名", "城市"]));
    assert_eq!(
        sink.fields(),
        vec![(2, vec!["张三", "北京市"]), (3, vec!["王五", "广州市"])]
    );
}

#[test]
fn csv_gb18030_declared() {
    // 𠀀 and € need GB18030's four-byte sequences.
    let text = "名称,备注\n𠀀,价格 €5\n";
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    let (summary, sink) = read("a.csv", &bytes, &csv().with_encoding(TextEncoding::Gb18030));
    assert_eq!(summary.encoding, Some(TextEncoding::Gb18030));
    assert_eq!(sink.fields(), vec![(2, vec!["𠀀", "价格 €5"])]);
    let (_, sink) = read("a.csv", &bytes, &csv().with_encoding(TextEncoding::Gbk));
    assert_eq!(sink.fields(), vec![(2, vec!["𠀀", "价格 €5"])]);
}

#[test]
fn col_1_csv_invalid_utf8_declared_is_an_error() {
    let mut bytes = b"a,b\n1,2\n3,".to_vec();
    let offset = bytes.len() as u64;
    bytes.extend_from_slice(b"\xFF\xFE\n5,6\n");
    let (err, sink) = read_err("a.csv", &bytes, &csv().with_encoding(TextEncoding::Utf8));
    assert_eq!(err.code(), "input.invalid_utf8");
    assert!(
        err.message_zh().starts_with("第 3 行"),
        "{}",
        err.message_zh()
    );
    assert!(
        err.message_en().starts_with("line 3"),
        "{}",
        err.message_en()
    );
    match err {
        InputError::InvalidEncoding {
            encoding,
            line,
            byte_offset,
        } => {
            assert_eq!(encoding, TextEncoding::Utf8);
            assert_eq!(line, 3);
            assert_eq!(byte_offset, offset);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Nothing was replaced with U+FFFD and passed on.
    assert!(sink
        .fields()
        .iter()
        .all(|(_, f)| f.iter().all(|s| !s.contains('\u{FFFD}'))));
}

#[test]
fn csv_invalid_utf8_after_the_sample_is_an_error() {
    // Detected as UTF-8 from the first 64 KiB; a bad byte later still stops the read.
    let mut bytes = b"a,b\n".to_vec();
    for i in 0..10_000 {
        bytes.extend_from_slice(format!("{i},值\n").as_bytes());
    }
    assert!(bytes.len() > 64 * 1024);
    bytes.extend_from_slice(b"x,\xC3\n");
    let (err, sink) = read_err("a.csv", &bytes, &csv());
    assert_eq!(err.code(), "input.invalid_utf8");
    assert!(matches!(
        err,
        InputError::InvalidEncoding { line: 10_002, .. }
    ));
    assert!(sink.records.len() <= 10_000);
}

#[test]
fn csv_unknown_encoding_is_an_error() {
    // 0x81 0x20 is neither UTF-8 nor GB18030.
    let (err, sink) = read_err("a.csv", b"a,b\n\x81\x20,1\n", &csv());
    assert_eq!(err.code(), "input.unknown_encoding");
    assert!(sink.headers.is_empty());
    assert!(!err.message_zh().is_empty() && !err.message_en().is_empty());
    // Declared GB18030, the same bytes name the encoding and the line.
    let (err, _) = read_err(
        "a.csv",
        b"a,b\n\x81\x20,1\n",
        &csv().with_encoding(TextEncoding::Gb18030),
    );
    assert_eq!(err.code(), "input.invalid_encoding");
    assert!(matches!(
        err,
        InputError::InvalidEncoding {
            encoding: TextEncoding::Gb18030,
            line: 2,
            byte_offset: 4
        }
    ));
}

#[test]
fn col_1_csv_ragged_rows_are_bad_records() {
    let text = "a,b,c,d,e,f\n1,2,3,4,5,6\n1,2,3,4,5\n1,2,3,4,5,6,\"7,x\"\n9,9,9,9,9,9\n";
    let (summary, sink) = read("a.csv", text.as_bytes(), &csv());
    assert_eq!(
        sink.fields(),
        vec![
            (2, vec!["1", "2", "3", "4", "5", "6"]),
            (5, vec!["9", "9", "9", "9", "9", "9"])
        ]
    );
    let bad = sink.bad();
    assert_eq!(bad.len(), 2);
    assert_eq!(bad[0].0, 3);
    assert_eq!(bad[0].1, "input.ragged_row");
    assert_eq!(bad[0].2, "1,2,3,4,5");
    assert_eq!(bad[0].3, "第 3 行有 5 列，表头有 6 列");
    assert_eq!(bad[0].4, "row 3 has 5 fields, the header has 6");
    assert_eq!(bad[1].0, 4);
    assert_eq!(bad[1].2, "1,2,3,4,5,6,\"7,x\"");
    assert_eq!(bad[1].4, "row 4 has 7 fields, the header has 6");
    assert_eq!(summary.records, 2);
    assert_eq!(summary.bad_records, 2);
}

#[test]
fn col_1_csv_embedded_newlines_and_quotes_round_trip() {
    let text = "id,note\r\n1,\"第一行\r\n第二行\"\r\n2,\"他说：\"\"你好\"\"\"\r\n\r\n3,\"a,b\"\"\nc\"\r\n4,plain\r\n";
    let (_, sink) = read("a.csv", text.as_bytes(), &csv());
    // A record with embedded newlines is one row; the blank line takes row 5.
    assert_eq!(
        sink.fields(),
        vec![
            (2, vec!["1", "第一行\r\n第二行"]),
            (3, vec!["2", "他说：\"你好\""]),
            (5, vec!["3", "a,b\"\nc"]),
            (6, vec!["4", "plain"]),
        ]
    );
    // A bad record's raw text quotes the same way.
    let text = "id,note\n1,\"x\ny\",\"say \"\"hi\"\"\"\n";
    let (_, sink) = read("a.csv", text.as_bytes(), &csv());
    assert_eq!(sink.bad()[0].2, "1,\"x\ny\",\"say \"\"hi\"\"\"");
}

#[test]
fn csv_blank_lines_are_skipped_but_counted() {
    let (summary, sink) = read("a.csv", b"\na,b\n1,2\n\n\n3,4\n\n", &csv());
    assert_eq!(sink.headers, strings(&["a", "b"]));
    assert_eq!(
        sink.fields(),
        vec![(3, vec!["1", "2"]), (6, vec!["3", "4"])]
    );
    assert_eq!(summary.records, 2);
}

#[test]
fn csv_header_must_be_unique_and_non_empty() {
    let (err, sink) = read_err("a.csv", "姓名,城市, 姓名 \n1,2,3\n".as_bytes(), &csv());
    assert_eq!(err.code(), "input.duplicate_header");
    assert!(matches!(
        &err,
        InputError::DuplicateHeader { name, first: 1, second: 3 } if name == "姓名"
    ));
    assert_eq!(err.message_zh(), "表头第 1 列和第 3 列重名：姓名");
    assert_eq!(sink.header_calls, 0);

    let (err, _) = read_err("a.csv", b"a, ,c\n1,2,3\n", &csv());
    assert_eq!(err.code(), "input.empty_header");
    assert!(matches!(err, InputError::EmptyHeader { column: 2 }));
    assert_eq!(err.message_en(), "header column 2 is empty");

    let (err, _) = read_err("a.csv", b"", &csv());
    assert_eq!(err.code(), "input.empty");
    let (err, _) = read_err("a.csv", b"\r\n\n", &csv());
    assert_eq!(err.code(), "input.empty");
}

#[test]
fn col_1_csv_truncated_quote_is_an_error() {
    let (err, sink) = read_err("a.csv", b"a,b\n1,2\n3,\"never closed\n4,5\n", &csv());
    assert_eq!(err.code(), "input.truncated");
    assert!(matches!(err, InputError::Truncated { row: 3 }));
    assert!(err.message_zh().contains("第 3 行"));
    assert_eq!(sink.fields(), vec![(2, vec!["1", "2"])]);
}

#[test]
fn col_1_csv_field_over_the_limit_is_a_bad_record() {
    let mut options = csv();
    options.max_field_bytes = 8;
    let text = "a,b\n\
                12345678,ok\n\
                123456789,unquoted\n\
                \"12345678\",quoted\n\
                \"1234\"\"5678\"\"9\"\"\"\"x\",doubled quotes past the limit\n\
                \"123456789\nabc\",\"embedded\"\n\
                tail,row\n";
    let (summary, sink) = read("a.csv", text.as_bytes(), &options);
    assert_eq!(
        sink.fields(),
        vec![
            (2, vec!["12345678", "ok"]),
            (4, vec!["12345678", "quoted"]),
            (7, vec!["tail", "row"]),
        ]
    );
    let bad = sink.bad();
    assert_eq!(
        bad.iter().map(|b| (b.0, b.1)).collect::<Vec<_>>(),
        vec![
            (3, "input.field_too_large"),
            (5, "input.field_too_large"),
            (6, "input.field_too_large"),
        ]
    );
    assert!(bad[0].3.contains("第 3 行第 1 列超过 8 字节"));
    assert!(bad[0].4.contains("first 1 KiB"));
    assert_eq!(summary.bad_records, 3);
}

/// Peak resident memory of this test process, where the platform tells it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
fn col_1_csv_100_mb_field_is_a_bad_record_without_loading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    {
        let mut out = BufWriter::new(File::create(&path).unwrap());
        out.write_all(b"id,payload\n1,small\n2,\"").unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for i in 0..100 {
            out.write_all(&chunk).unwrap();
            if i == 50 {
                out.write_all(b"\"\"").unwrap();
            }
        }
        out.write_all(b"\"\n3,after\n").unwrap();
    }
    let (result, sink) = read_path(&path, &csv());
    let summary = result.unwrap();
    assert_eq!(
        sink.fields(),
        vec![(2, vec!["1", "small"]), (4, vec!["3", "after"])]
    );
    let bad = sink.bad();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].0, 3);
    assert_eq!(bad[0].1, "input.field_too_large");
    assert!(bad[0].2.starts_with("2,xxx"));
    assert!(bad[0].2.ends_with('…'));
    assert!(bad[0].2.len() <= 1024 + '…'.len_utf8());
    assert_eq!(summary.bad_records, 1);
    assert!(summary.bytes > 100 << 20);
    assert!(sink.progress.len() >= 100, "progress every MiB");
    if let Some(peak) = peak_rss_bytes() {
        assert!(
            peak < 150 << 20,
            "peak memory {peak} bytes: the field was held in memory"
        );
    }
}

#[test]
fn csv_record_over_the_record_limit_stops() {
    let mut options = csv();
    options.max_field_bytes = 4;
    options.max_record_bytes = 100;
    let mut text = b"a,b\n1,2\n".to_vec();
    text.extend(std::iter::repeat_n(b',', 5000));
    text.extend_from_slice(b"\n");
    let (err, sink) = read_err("a.csv", &text, &options);
    assert_eq!(err.code(), "input.record_too_large");
    assert!(matches!(err, InputError::RecordTooLarge { row: 3, .. }));
    assert_eq!(sink.fields(), vec![(2, vec!["1", "2"])]);
}

#[test]
fn csv_too_many_fields_stops() {
    let mut text = b"a,b\n1,2\n".to_vec();
    text.extend(std::iter::repeat_n(b',', 20_000));
    text.extend_from_slice(b"\n3,4\n");
    let (err, sink) = read_err("a.csv", &text, &csv());
    assert_eq!(err.code(), "input.too_many_fields");
    assert!(matches!(
        err,
        InputError::TooManyFields {
            row: 3,
            limit: 16_384
        }
    ));
    assert_eq!(sink.fields(), vec![(2, vec!["1", "2"])]);
}

#[test]
fn col_1_sink_stop_propagates() {
    let input = write("a.csv", b"a\n1\n2\n3\n");
    let mut sink = Collect {
        stop_after: Some(1),
        ..Collect::default()
    };
    let err = read_file(&input.path, &csv(), &mut sink).unwrap_err();
    assert_eq!(err.code(), "input.stopped");
    assert!(matches!(&err, InputError::Stopped(reason) if reason == "已取消 cancelled"));
    assert_eq!(err.message_zh(), "读取已中止：已取消 cancelled");
    assert_eq!(sink.records.len(), 1);
}

// ---------------------------------------------------------------------------
// XLSX

fn xlsx_file(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Input {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.xlsx");
    let mut workbook = Workbook::new();
    build(workbook.add_worksheet());
    workbook.save(&path).unwrap();
    Input { _dir: dir, path }
}

#[test]
fn xlsx_reads_the_first_sheet() {
    let input = xlsx_file(|ws| {
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        // Two empty rows before the header.
        for (c, h) in [
            " 姓名",
            "人数",
            "面积",
            "登记日期",
            "更新时间",
            "有效",
            "备注",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        ws.write_string(3, 0, "张三").unwrap();
        ws.write_number(3, 1, 42.0).unwrap();
        ws.write_number(3, 2, 3.25).unwrap();
        ws.write_datetime_with_format(3, 3, ExcelDateTime::from_ymd(2024, 3, 15).unwrap(), &date)
            .unwrap();
        ws.write_datetime_with_format(
            3,
            4,
            ExcelDateTime::from_ymd(2024, 3, 15)
                .unwrap()
                .and_hms(8, 30, 5)
                .unwrap(),
            &datetime,
        )
        .unwrap();
        ws.write_boolean(3, 5, true).unwrap();
        // Row 5 is short: the missing cells are empty.
        ws.write_string(4, 0, "李四").unwrap();
        ws.write_number(4, 1, -7.0).unwrap();
        // Row 6 holds an error value.
        ws.write_string(5, 0, "王五").unwrap();
        ws.write_formula(5, 1, Formula::new("=1/0").set_result("#DIV/0!"))
            .unwrap();
        // Row 7 has a value beyond the header.
        ws.write_string(6, 0, "赵六").unwrap();
        ws.write_string(6, 8, "多出来的").unwrap();
        // An empty row in the middle, then trailing empty formatted cells.
        ws.write_string(8, 0, "钱七").unwrap();
        ws.write_blank(12, 0, &date).unwrap();
    });
    let (result, sink) = read_path(&input.path, &InputOptions::new(InputFormat::Xlsx));
    let summary = result.unwrap();
    assert_eq!(
        sink.headers,
        strings(&[
            "姓名",
            "人数",
            "面积",
            "登记日期",
            "更新时间",
            "有效",
            "备注"
        ])
    );
    assert_eq!(
        sink.fields(),
        vec![
            (
                4,
                vec![
                    "张三",
                    "42",
                    "3.25",
                    "2024-03-15",
                    "2024-03-15T08:30:05",
                    "true",
                    ""
                ]
            ),
            (5, vec!["李四", "-7", "", "", "", "", ""]),
            (9, vec!["钱七", "", "", "", "", "", ""]),
        ]
    );
    let bad = sink.bad();
    assert_eq!(bad.len(), 2);
    assert_eq!(bad[0].0, 6);
    assert_eq!(bad[0].1, "input.cell_error");
    assert_eq!(bad[0].2, "王五,#DIV/0!");
    assert_eq!(bad[0].3, "第 6 行 B 列是错误值 #DIV/0!");
    assert_eq!(bad[1].0, 7);
    assert_eq!(bad[1].1, "input.ragged_row");
    assert_eq!(bad[1].2, "赵六,,,,,,,,多出来的");
    assert_eq!(bad[1].4, "row 7 has 9 fields, the header has 7");
    assert_eq!(summary.format, InputFormat::Xlsx);
    assert_eq!(summary.encoding, None);
    assert_eq!(summary.records, 3);
    assert_eq!(summary.bad_records, 2);
}

#[test]
fn xlsx_empty_sheet_is_empty() {
    let input = xlsx_file(|_| {});
    let (result, _) = read_path(&input.path, &InputOptions::new(InputFormat::Xlsx));
    assert_eq!(result.unwrap_err().code(), "input.empty");
}

#[test]
fn col_1_xlsx_over_the_size_limit_is_refused() {
    let input = xlsx_file(|ws| {
        ws.write_string(0, 0, "a").unwrap();
    });
    let mut options = InputOptions::new(InputFormat::Xlsx);
    options.max_xlsx_uncompressed = 1000;
    let (result, sink) = read_path(&input.path, &options);
    let err = result.unwrap_err();
    assert_eq!(err.code(), "input.zip_bomb");
    assert!(err.message_en().contains("limit of 1000 bytes"));
    assert!(sink.headers.is_empty());
}

#[test]
fn col_1_xlsx_zip_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.xlsx");
    {
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..200 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
    }
    assert!(std::fs::metadata(&path).unwrap().len() < 2 << 20);
    let (result, sink) = read_path(&path, &InputOptions::new(InputFormat::Xlsx));
    let err = result.unwrap_err();
    assert_eq!(err.code(), "input.zip_bomb");
    match &err {
        InputError::ZipBomb {
            entry,
            uncompressed,
            ..
        } => {
            assert_eq!(entry, "xl/worksheets/sheet1.xml");
            assert_eq!(*uncompressed, 200 << 20);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.message_zh().contains("压缩炸弹"));
    assert!(sink.headers.is_empty() && sink.records.is_empty());
}

/// A sheet row: its number and the text of its cells from column A on.
type SheetRowText<'a> = (u32, &'a [&'a str]);

/// A workbook written by rust_xlsxwriter whose first sheet's rows are replaced by `rows`.
fn xlsx_with_rows(rows: &[SheetRowText]) -> Input {
    use std::io::Read;
    let written = xlsx_file(|ws| {
        ws.write_string(0, 0, "k").unwrap();
    });
    let mut data = String::new();
    for (r, cells) in rows {
        data.push_str(&format!(r#"<row r="{r}">"#));
        for (i, text) in cells.iter().enumerate() {
            let column = char::from(b'A' + i as u8);
            data.push_str(&format!(
                r#"<c r="{column}{r}" t="inlineStr"><is><t>{text}</t></is></c>"#
            ));
        }
        data.push_str("</row>");
    }
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{data}</sheetData></worksheet>"#
    );
    let path = written.path.with_file_name("rows.xlsx");
    let mut source = zip::ZipArchive::new(File::open(&written.path).unwrap()).unwrap();
    let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            bytes = sheet.clone().into_bytes();
        }
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&bytes).unwrap();
    }
    zip.finish().unwrap();
    Input {
        _dir: written._dir,
        path,
    }
}

/// COL-2, COL-3: a row's number places it in the stored version and among the
/// rejected rows. A sheet that names a row or a cell twice, or goes back to an
/// earlier one, would have two records share a number or one cell overwrite
/// another: it is refused as damaged, and nothing is read from it silently.
#[test]
fn col_2_xlsx_rows_and_cells_out_of_order_are_refused() {
    let in_order = xlsx_with_rows(&[(1, &["k", "v"]), (2, &["a", "1"]), (4, &["b", "2"])]);
    let (result, sink) = read_path(&in_order.path, &InputOptions::new(InputFormat::Xlsx));
    result.unwrap();
    assert_eq!(sink.headers, ["k", "v"]);
    let rows: Vec<u64> = sink.records.iter().map(|r| r.row()).collect();
    assert_eq!(rows, [2, 4]);

    let refused: [(&[SheetRowText], &str); 3] = [
        (
            &[(1, &["k"]), (3, &["a"]), (2, &["b"])],
            "第 2 行出现在第 3 行之后",
        ),
        (
            &[(1, &["k"]), (2, &["a"]), (5, &["b"]), (2, &["c"])],
            "第 2 行出现在第 5 行之后",
        ),
        (
            &[(1, &["k"]), (2, &["a"]), (2, &["b"])],
            "单元格 A2 出现在 A2 之后",
        ),
    ];
    for (rows, why) in refused {
        let input = xlsx_with_rows(rows);
        let (result, _) = read_path(&input.path, &InputOptions::new(InputFormat::Xlsx));
        let err = result.unwrap_err();
        assert_eq!(err.code(), "input.malformed_xlsx");
        assert!(err.message_zh().contains(why), "{}", err.message_zh());
        assert!(
            err.message_en().contains("comes after"),
            "{}",
            err.message_en()
        );
    }
}

#[test]
fn xlsx_not_a_zip_is_not_xlsx() {
    let input = write("a.xlsx", b"name,city\n1,2\n");
    let (result, _) = read_path(&input.path, &InputOptions::new(InputFormat::Xlsx));
    let err = result.unwrap_err();
    assert_eq!(err.code(), "input.not_xlsx");
    assert!(err.message_zh().contains(".xlsx"));

    // A zip that is not a workbook.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.xlsx");
    {
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"hello").unwrap();
        zip.finish().unwrap();
    }
    let (result, _) = read_path(&path, &InputOptions::new(InputFormat::Xlsx));
    assert_eq!(result.unwrap_err().code(), "input.not_xlsx");
}

// ---------------------------------------------------------------------------
// JSON and NDJSON

fn json() -> InputOptions {
    InputOptions::new(InputFormat::Json).with_columns(["id", "name", "score"])
}

fn ndjson() -> InputOptions {
    InputOptions::new(InputFormat::Ndjson).with_columns(["id", "name", "score"])
}

#[test]
fn col_1_json_array_maps_objects_and_loses_nothing() {
    let text = r#"
    [
      {"id": "1", "name": "张三", "score": 12.50},
      {"id": 2, "name": null},
      {"id": 3, "name": "李四", "extra": "x"},
      {"id": 4, "name": {"first": "王"}},
      ["not", "an", "object"],
      {"id": 6, "name": "a\"b\\c\n], {", "score": true},
      {"id": 7, "id": 8},
      {}
    ]
    "#;
    let (summary, sink) = read("a.json", text.as_bytes(), &json());
    assert_eq!(sink.headers, strings(&["id", "name", "score"]));
    assert_eq!(
        sink.fields(),
        vec![
            (1, vec!["1", "张三", "12.50"]),
            (2, vec!["2", "", ""]),
            (6, vec!["6", "a\"b\\c\n], {", "true"]),
            (8, vec!["", "", ""]),
        ]
    );
    let bad = sink.bad();
    assert_eq!(
        bad.iter().map(|b| (b.0, b.1)).collect::<Vec<_>>(),
        vec![
            (3, "input.unknown_field"),
            (4, "input.nested_value"),
            (5, "input.not_an_object"),
            (7, "input.duplicate_key"),
        ]
    );
    assert_eq!(bad[0].2, r#"{"id": 3, "name": "李四", "extra": "x"}"#);
    assert!(bad[0].3.contains("第 3 个元素") && bad[0].3.contains("extra"));
    assert!(bad[0].4.contains("element 3") && bad[0].4.contains("extra"));
    assert_eq!(bad[1].2, r#"{"id": 4, "name": {"first": "王"}}"#);
    assert_eq!(bad[2].2, r#"["not", "an", "object"]"#);
    assert_eq!(summary.encoding, Some(TextEncoding::Utf8));
    assert_eq!(summary.records, 4);
    assert_eq!(summary.bad_records, 4);
}

#[test]
fn json_syntax_error_names_the_element() {
    let (err, sink) = read_err(
        "a.json",
        br#"[{"id": 1}, {"id": 2,, "name": "x"}, {"id": 3}]"#,
        &json(),
    );
    assert_eq!(err.code(), "input.malformed_json");
    assert!(matches!(err, InputError::MalformedJson { element: 2, .. }));
    assert!(err.message_zh().contains("第 2 个元素"));
    assert_eq!(sink.fields(), vec![(1, vec!["1", "", ""])]);

    for (text, element) in [
        (&br#"[{"id": 1} {"id": 2}]"#[..], 1),
        (br#"[{"id": 1},]"#, 1),
        (br#"[{"id": 1}"#, 1),
        (br#"[{"id": 1}, {"id": "#, 2),
        (br#"[{"id": 1}] x"#, 1),
    ] {
        let (err, _) = read_err("a.json", text, &json());
        assert_eq!(err.code(), "input.malformed_json", "{text:?}");
        assert!(
            matches!(err, InputError::MalformedJson { element: e, .. } if e == element),
            "{text:?}: {err:?}"
        );
    }
    let (err, _) = read_err("a.json", br#"{"id": 1}"#, &json());
    assert_eq!(err.code(), "input.not_an_array");
    let (err, _) = read_err("a.json", b"  \n", &json());
    assert_eq!(err.code(), "input.empty");
    let (summary, _) = read("a.json", b"[ ]", &json());
    assert_eq!(summary.records, 0);
}

#[test]
fn json_needs_columns() {
    let (err, _) = read_err("a.json", b"[]", &InputOptions::new(InputFormat::Json));
    assert_eq!(err.code(), "input.no_columns");
    let options = InputOptions::new(InputFormat::Json).with_columns(["a", "a"]);
    let (err, _) = read_err("a.json", b"[]", &options);
    assert_eq!(err.code(), "input.duplicate_header");
}

#[test]
fn json_element_over_the_record_limit_stops() {
    let mut options = json();
    options.max_field_bytes = 10;
    options.max_record_bytes = 200;
    let long = "x".repeat(100);
    let text = format!(r#"[{{"id": "{long}"}}, {{"id": "{}"}}]"#, "y".repeat(3000));
    let (err, sink) = read_err("a.json", text.as_bytes(), &options);
    assert_eq!(err.code(), "input.record_too_large");
    assert!(matches!(err, InputError::RecordTooLarge { row: 2, .. }));
    // The first element fit the record limit but its field did not.
    let bad = sink.bad();
    assert_eq!(bad[0].0, 1);
    assert_eq!(bad[0].1, "input.field_too_large");
}

#[test]
fn col_1_ndjson_malformed_line_is_a_bad_record() {
    let text = "{\"id\": 1, \"name\": \"张三\"}\r\n\
                \n\
                {\"id\": 2, \"name\": \n\
                   \n\
                [1, 2]\n\
                {\"id\": 4, \"score\": 9.0, \"nested\": [1]}\n\
                {\"id\": 5, \"score\": -1e3}";
    let (summary, sink) = read("a.ndjson", text.as_bytes(), &ndjson());
    assert_eq!(sink.headers, strings(&["id", "name", "score"]));
    assert_eq!(
        sink.fields(),
        vec![(1, vec!["1", "张三", ""]), (7, vec!["5", "", "-1e3"])]
    );
    let bad = sink.bad();
    assert_eq!(
        bad.iter().map(|b| (b.0, b.1, b.2)).collect::<Vec<_>>(),
        vec![
            (3, "input.malformed_json", "{\"id\": 2, \"name\": "),
            (5, "input.not_an_object", "[1, 2]"),
            (
                6,
                "input.unknown_field",
                "{\"id\": 4, \"score\": 9.0, \"nested\": [1]}"
            ),
        ]
    );
    assert!(bad[0].3.starts_with("第 3 行不是有效的 JSON"));
    assert!(bad[0].4.starts_with("line 3 is not valid JSON"));
    assert_eq!(summary.records, 2);
    assert_eq!(summary.bad_records, 3);
}

#[test]
fn ndjson_invalid_utf8_is_an_error() {
    let (err, sink) = read_err("a.ndjson", b"{\"id\": 1}\n{\"id\": \"\xFF\"}\n", &ndjson());
    assert_eq!(err.code(), "input.invalid_utf8");
    assert!(matches!(
        err,
        InputError::InvalidEncoding {
            line: 2,
            byte_offset: 18,
            ..
        }
    ));
    assert_eq!(sink.fields(), vec![(1, vec!["1", "", ""])]);
}

#[test]
fn ndjson_stop_propagates() {
    let input = write("a.ndjson", b"{\"id\": 1}\n{\"id\": 2}\n");
    let mut sink = Collect {
        stop_after: Some(0),
        ..Collect::default()
    };
    let err = read_file(&input.path, &ndjson(), &mut sink).unwrap_err();
    assert_eq!(err.code(), "input.stopped");
    assert!(sink.records.is_empty());
}
