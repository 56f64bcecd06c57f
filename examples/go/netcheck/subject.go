package netcheck

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SubjectKeyMinBytes is the shortest subject key netcheck accepts.
const SubjectKeyMinBytes = 32

// Subject is the keyed hash of a number (§ Subject): HMAC-SHA256 over the UTF-8 bytes of the
// E.164 number, keyed with the UTF-8 bytes of NETCHECK_SUBJECT_KEY as written (a hex-looking
// key is not decoded), as lowercase hex cut to its first 32 characters.
func Subject(msisdn string, key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msisdn))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

// CheckWorkflowID is the workflow id of a single check (§ Workflow ids):
// netcheck-<api>-<operation>-<subject>-<requestId>. The same request id is the same check.
func CheckWorkflowID(api API, op Operation, subject, requestID string) string {
	return fmt.Sprintf("netcheck-%s-%s-%s-%s", api, op, subject, requestID)
}

// InputFingerprint is the batch input fingerprint (§ Batch protocol): HMAC-SHA256, keyed with the
// subject key, over "netcheck-batch-input:v1:" followed by the canonical JSON of the first page
// of items as the caller gave them, base64url without padding, first 32 characters.
func InputFingerprint(firstPage []BatchItem, key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("netcheck-batch-input:v1:" + CanonicalItems(firstPage)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))[:32]
}

// CanonicalItems writes items as the fingerprint reads them: a JSON array of objects whose keys
// are sorted, fields left out when empty, and strings escaped as ECMAScript's JSON.stringify does.
func CanonicalItems(items []BatchItem) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, item := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		fields := map[string]string{"msisdn": jsString(item.MSISDN)}
		ops := make([]string, len(item.Operations))
		for j, op := range item.Operations {
			ops[j] = jsString(string(op))
		}
		fields["operations"] = "[" + strings.Join(ops, ",") + "]"
		if item.API != "" {
			fields["api"] = jsString(string(item.API))
		}
		if item.MaxAge != 0 {
			fields["maxAge"] = strconv.Itoa(item.MaxAge)
		}
		if item.Purpose != "" {
			fields["purpose"] = jsString(item.Purpose)
		}
		if item.Ref != "" {
			fields["ref"] = jsString(item.Ref)
		}
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys) // ASCII keys: byte order is UTF-16 code unit order
		b.WriteByte('{')
		for j, k := range keys {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsString(k) + ":" + fields[k])
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}

// jsString quotes s as JSON.stringify does: \" \\ \b \f \n \r \t, other controls as \u00xx,
// everything else (U+2028 and U+2029 included) as it is. (encoding/json escapes more.)
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
