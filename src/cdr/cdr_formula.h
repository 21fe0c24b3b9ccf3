/*
 * cdr_formula.h — the one formula checker of the package formats (see
 * formula.c): spreadsheet formulas wherever they live in OOXML and ODF.
 *
 * SECURITY: see formula.c (pure function on a string; allocates nothing).
 */
#ifndef MUGAI_CDR_FORMULA_H
#define MUGAI_CDR_FORMULA_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	CDR_F_OOXML = 0,  /* SpreadsheetML: A1, Sheet1!A1, Table1[Col] */
	CDR_F_ODF = 1,    /* OpenFormula: of:=SUM([.A1:.B2]) */
	CDR_F_ODF_COND = 2, /* ODF condition: cell-content-is-between(1;2) */
} cdr_formula_dialect_t;

/* Is the formula free of external effect? true when every function is on
 * the allowlist and there is no DDE, no external workbook reference and no
 * URL or UNC literal. When false, why gets a short English reason (may be
 * NULL). len is the length of f (no terminator needed). */
bool cdr_formula_ok(const char *f, size_t len, cdr_formula_dialect_t d, char *why,
		    size_t whylen);

/* Is this (upper-case, prefix-free) function name on the allowlist? */
bool cdr_formula_fn_allowed(const char *name);

#endif
