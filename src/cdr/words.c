/*
 * words.c — CDR actions, block reasons and file kinds in words a clerk can
 * read (Japanese), for the notice and the report's "text_ja" fields.
 *
 * Convention (every CDR module): an action text or a block reason is a
 * stable code, optionally followed by ": " and a detail, e.g.
 * "macro-removed: word/vbaProject.bin", "limit:pdf_pages_max: 3000 pages",
 * "encrypted". The code is machine-readable (report JSON, tests); the detail
 * is shown quoted after the sentence. A table row whose code ends in ':' is a
 * family ("limit:", "policy:") matched by prefix; exact rows come first.
 *
 * SECURITY: pure string lookups on texts built by CDR; the details may come
 * from hostile names and are only ever printed quoted, never interpreted.
 */
#include "cdr/cdr.h"

#include <string.h>

typedef struct { const char *code, *ja; } word_t;

static const word_t action_words[] = {
	/* Office and ODF (ooxml.c, odf.c) */
	{ "macro-removed", "マクロを削除しました" },
	{ "type-converted", "マクロ付きの形式からマクロなしの形式に変換しました" },
	{ "converted", "マクロ付きの形式からマクロなしの形式に変換しました" },
	{ "part-removed", "文書の中の安全と確認できない部分を削除しました" },
	{ "relationship-removed", "文書の中の安全と確認できない参照を削除しました" },
	{ "link-disabled", "外部へのリンクを無効にしました" },
	{ "field-replaced", "安全と確認できないフィールドを、表示されていた文字に置き換えました" },
	{ "formula-removed", "安全と確認できない数式を削除し、計算結果の値を残しました" },
	{ "attribute-removed", "外部を指す設定を削除しました" },
	{ "element-removed", "埋め込みオブジェクトなどの動作する要素を削除しました" },
	{ "object-removed", "埋め込まれたオブジェクトを削除しました" },
	/* legacy Office and RTF (legacy.c) */
	{ "legacy-converted", "旧形式の文書を画像のPDFに変換しました（文字の検索・コピーはできません）" },
	/* PDF (pdf.c) */
	{ "pdf-flattened", "PDFを画像に変換しました（文字の検索・コピーはできません）" },
	{ "pdf-resolution-lowered", "大きなページは解像度を下げて画像にしました" },
	{ "pdf-action-removed", "PDFの自動実行やリンクなどの動作を削除しました" },
	{ "pdf-annotation-removed", "PDFの注釈（添付ファイル・動画など）を削除しました" },
	{ "pdf-part-removed", "PDFの一部（スクリプト・添付ファイル・フォームなど）を削除しました" },
	{ "pdf-repaired", "壊れていたPDFの構造を修復しました" },
	{ "pdf-versions-collapsed", "PDFの変更履歴を最新の版にまとめました" },
	/* images (image.c) */
	{ "image-reencoded", "画像を描き直し、撮影情報などの付随情報を削除しました" },
	{ "tiff-pages-to-pdf", "複数ページのTIFF画像を、全ページを含むPDFに変換しました" },
	{ "tiff-pages-lost", "TIFF画像の一部のページを、読み取れないか大きすぎるため削除しました" },
	/* text and CSV (text.c) */
	{ "text-decoded", "文字コードを変換しました" },
	{ "text-cp932-lossy", "Shift_JIS で表せない文字を「?」に置き換えました" },
	{ "text-undecodable", "読み取れない文字を置き換えました" },
	{ "text-controls-removed", "制御文字を削除しました" },
	{ "csv-formula-neutralized", "数式として実行されるおそれのあるセルを文字として扱うようにしました" },
	{ "csv-sep-line", "区切り文字の指定行（sep=）に従って処理しました" },
	/* archives (zip.c) */
	{ "entry-removed", "圧縮ファイルの中の無害化できないファイルを削除しました" },
	{ "entry-renamed", "圧縮ファイルの中のファイル名を変更しました" },
	{ "zip-padding-ignored", "圧縮ファイルの末尾の余分なデータを無視しました" },
	{ "zip-decrypted", "パスワードのメールにあったパスワードで開き、中のファイルを無害化しました" },
	/* any file (cdr.c) */
	{ "extension-mismatch", "ファイル名の拡張子が中身と一致しません" },
	{ "file-renamed", "Windows で正しく扱えないファイル名（装置名や末尾の点など）を安全な名前に変更しました" },
};

static const word_t reason_words[] = {
	{ "encrypted", "パスワード付きのため無害化できません" },
	{ "ppap-wrong-password", "パスワード付きZIPを、届いたパスワードで開けませんでした" },
	{ "legacy-in-archive", "圧縮ファイルの中の旧形式の文書は画像に変換できないため削除しました" },
	{ "legacy-not-converted", "旧形式の文書は、この経路ではまだ画像に変換できないため添付しませんでした" },
	{ "legacy-jail-unavailable", "変換用の隔離環境を用意できないため、旧形式の文書を変換しませんでした" },
	{ "legacy-conversion-failed", "旧形式の文書を変換できませんでした（壊れている、パスワード付き、または未対応の形式です）" },
	{ "limit:legacy_time_max", "旧形式の文書の変換に時間がかかりすぎるため添付しませんでした" },
	{ "limit:legacy_message_max", "一通のメールで変換できる旧形式の文書の数を超えたため添付しませんでした" },
	{ "limit:legacy_concurrent_max", "変換が混み合っていて順番が回ってこなかったため、旧形式の文書を添付しませんでした" },
	{ "ooxml-case-collision", "ファイルの構成が不正なため無害化できません" },
	{ "ooxml-fields-too-deep", "ファイルの構成が不正なため無害化できません" },
	{ "xml-dtd", "ファイルの構成が不正なため無害化できません" },
	{ "unsupported-type", "この種類のファイルは無害化できないため添付しませんでした" },
	{ "dangerous-extension", "開くとプログラムが実行されるおそれのある名前のため添付しませんでした" },
	{ "executable", "プログラム（実行ファイル）のため添付しませんでした" },
	{ "script", "スクリプト（プログラム）のため添付しませんでした" },
	{ "empty", "空のファイルです" },
	{ "empty-after-sanitizing", "無害化すると中身が残らないため添付しませんでした" },
	{ "broken", "ファイルが壊れているため無害化できません" },
	{ "zip-nothing-left", "圧縮ファイルの中に無害化できるファイルがありませんでした" },
	{ "internal-error", "処理中に問題が起きたため添付しませんでした" },
	{ "worker-crash", "処理中に問題が起きたため添付しませんでした" },
	{ "limit:file_size_max", "ファイルが大きすぎるため無害化できません" },
	{ "limit:cdr_output_max", "無害化後のファイルが大きすぎるため添付しませんでした" },
	{ "limit:cdr_time_max", "無害化に時間がかかりすぎるため添付しませんでした" },
	{ "limit:pdf_pages_max", "ページ数が多すぎるため無害化できません" },
	{ "limit:image_pixels_max", "画像が大きすぎるため無害化できません" },
	{ "limit:zip_depth_max", "圧縮ファイルの入れ子が深すぎるため無害化できません" },
	{ "limit:zip_entries_max", "圧縮ファイルの中のファイルが多すぎるため無害化できません" },
	{ "limit:worker_memory_max", "無害化に必要なメモリが上限を超えたため添付しませんでした" },
	{ "limit:pdf_flatten_bytes_max", "PDFを画像にすると大きくなりすぎるため添付しませんでした" },
	{ "limit:", "大きさや数が上限を超えたため無害化できません" },
	{ "policy:", "設定により、この種類のファイルは添付しないことになっています" },
};

static const word_t kind_words[] = {
	{ "pdf", "PDF 文書" }, { "png", "画像 (PNG)" }, { "jpeg", "画像 (JPEG)" },
	{ "gif", "画像 (GIF)" }, { "bmp", "画像 (BMP)" }, { "tiff", "画像 (TIFF)" },
	{ "zip", "圧縮ファイル (ZIP)" }, { "text", "テキスト" }, { "csv", "CSV（表形式のテキスト）" },
	{ "docx", "Word 文書" }, { "docm", "Word 文書（マクロ付き）" },
	{ "dotx", "Word テンプレート" }, { "dotm", "Word テンプレート（マクロ付き）" },
	{ "xlsx", "Excel ブック" }, { "xlsm", "Excel ブック（マクロ付き）" },
	{ "xltx", "Excel テンプレート" }, { "xltm", "Excel テンプレート（マクロ付き）" },
	{ "pptx", "PowerPoint プレゼンテーション" },
	{ "pptm", "PowerPoint プレゼンテーション（マクロ付き）" },
	{ "ppsx", "PowerPoint スライドショー" }, { "ppsm", "PowerPoint スライドショー（マクロ付き）" },
	{ "potx", "PowerPoint テンプレート" }, { "potm", "PowerPoint テンプレート（マクロ付き）" },
	{ "odt", "OpenDocument 文書" }, { "ods", "OpenDocument 表計算" },
	{ "odp", "OpenDocument プレゼンテーション" }, { "odg", "OpenDocument 図形" },
	{ "ole2", "旧形式の Office 文書" }, { "rtf", "リッチテキスト (RTF)" },
	{ "exe", "プログラム" }, { "script", "スクリプト" }, { "html", "ウェブページ (HTML)" },
	{ "xml", "XML 文書" }, { "archive", "圧縮ファイル" }, { "media", "音声・動画" },
	{ "empty", "空のファイル" }, { "unknown", "種類の分からないファイル" },
};

/* Length of the code: up to the first ": " (or the end). */
static size_t code_len(const char *text)
{
	const char *p = strstr(text, ": ");

	return p ? (size_t)(p - text) : strlen(text);
}

static const char *lookup(const word_t *t, size_t n, const char *text)
{
	size_t len;

	if (!text)
		return NULL;
	len = code_len(text);
	for (size_t i = 0; i < n; i++) {
		size_t cl = strlen(t[i].code);

		if (cl == len && strncmp(t[i].code, text, len) == 0)
			return t[i].ja;
		if (t[i].code[cl - 1] == ':' && cl <= len && strncmp(t[i].code, text, cl) == 0)
			return t[i].ja;
	}
	return NULL;
}

const char *cdr_words_action(const char *action_text)
{
	return lookup(action_words, MUGAI_ARRAY_LEN(action_words), action_text);
}

const char *cdr_words_reason(const char *reason)
{
	return lookup(reason_words, MUGAI_ARRAY_LEN(reason_words), reason);
}

const char *cdr_words_kind(const char *type)
{
	for (size_t i = 0; type && i < MUGAI_ARRAY_LEN(kind_words); i++)
		if (strcmp(kind_words[i].code, type) == 0)
			return kind_words[i].ja;
	return NULL;
}

const char *cdr_words_detail(const char *text)
{
	size_t len = text ? code_len(text) : 0;

	return text && text[len] ? text + len + 2 : NULL;
}

/* Codes whose detail is "PATH: REASON" (zip.c): an archive entry and why
 * it went. The reason is shown as its own sentence, never as a code. */
static bool entry_reason_code(const char *text, bool reason)
{
	size_t len = code_len(text);

	return reason ? len == 16 && strncmp(text, "zip-nothing-left", 16) == 0
		      : len == 13 && strncmp(text, "entry-removed", 13) == 0;
}

/* "（「PATH」：REASON SENTENCE（「detail」））"; 1 when the reason has no
 * sentence (the caller then quotes the detail as it is). */
static int append_entry_reason(const char *detail, buf_t *out)
{
	const char *why = cdr_words_detail(detail);
	int n = why ? (int)(why - 2 - detail) : 0;

	if (!why || !cdr_words_reason(why))
		return 1;
	if (buf_printf(out, "（「%.*s」：", n, detail) < 0 || cdr_words_append(why, true, out) < 0)
		return -1;
	return buf_puts(out, "）");
}

int cdr_words_append(const char *text, bool reason, buf_t *out)
{
	const char *ja = reason ? cdr_words_reason(text) : cdr_words_action(text);
	const char *detail = cdr_words_detail(text);
	int rc;

	if (!ja)
		return buf_puts(out, text ? text : "");
	if (buf_puts(out, ja) < 0)
		return -1;
	if (!detail || !*detail)
		return 0;
	if (entry_reason_code(text, reason) && (rc = append_entry_reason(detail, out)) <= 0)
		return rc;
	return buf_printf(out, "（「%s」）", detail);
}
