package netcheck

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"
)

// The golden vectors of contract/v1/vectors.json, which netcheck's TypeScript tests check too.
type vectorFile struct {
	Subject []struct {
		Key, MSISDN, Subject string
	} `json:"subject"`
	WorkflowID struct {
		API, Operation, Subject, RequestID, WorkflowID string
	} `json:"workflowId"`
	BatchFingerprint struct {
		Key         string      `json:"key"`
		Items       []BatchItem `json:"items"`
		Canonical   string      `json:"canonical"`
		Fingerprint string      `json:"fingerprint"`
	} `json:"batchFingerprint"`
	Codec struct {
		KeyRing string `json:"keyRing"`
		Payload struct {
			Metadata map[string]string `json:"metadata"`
			Data     string            `json:"data"`
		} `json:"payload"`
		PlaintextBase64 string `json:"plaintextBase64"`
		Ciphertexts     []struct {
			KeyID          string            `json:"keyId"`
			IVBase64       string            `json:"ivBase64"`
			AssociatedData string            `json:"associatedData"`
			Metadata       map[string]string `json:"metadata"`
			DataBase64     string            `json:"dataBase64"`
		} `json:"ciphertexts"`
	} `json:"codec"`
}

func loadVectors(t *testing.T) vectorFile {
	var v vectorFile
	readJSON(t, "vectors.json", &v)
	return v
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSubjectVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Subject) == 0 {
		t.Fatal("no subject vectors")
	}
	for _, s := range v.Subject {
		if got := Subject(s.MSISDN, []byte(s.Key)); got != s.Subject {
			t.Errorf("Subject(%s, %q) = %s, want %s", s.MSISDN, s.Key, got, s.Subject)
		}
	}
	w := v.WorkflowID
	if got := CheckWorkflowID(API(w.API), Operation(w.Operation), w.Subject, w.RequestID); got != w.WorkflowID {
		t.Errorf("CheckWorkflowID = %s, want %s", got, w.WorkflowID)
	}
}

func TestFingerprintVector(t *testing.T) {
	f := loadVectors(t).BatchFingerprint
	if got := CanonicalItems(f.Items); got != f.Canonical {
		t.Errorf("canonical items:\n got %s\nwant %s", got, f.Canonical)
	}
	if got := InputFingerprint(f.Items, []byte(f.Key)); got != f.Fingerprint {
		t.Errorf("fingerprint %s, want %s", got, f.Fingerprint)
	}
}

func metadataOf(p *commonpb.Payload) map[string]string {
	out := map[string]string{}
	for k, v := range p.GetMetadata() {
		out[k] = string(v)
	}
	return out
}

func TestCodecVectors(t *testing.T) {
	c := loadVectors(t).Codec
	ring, err := ParseKeyRing(c.KeyRing)
	if err != nil {
		t.Fatal(err)
	}
	payload := &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte(c.Payload.Metadata["encoding"])},
		Data:     []byte(c.Payload.Data),
	}
	plain, err := proto.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, b64(t, c.PlaintextBase64)) {
		t.Fatalf("the protobuf encoding of the payload differs from the vector's plaintext")
	}
	if len(c.Ciphertexts) != len(ring.Keys) {
		t.Fatalf("one ciphertext per key id: %d ciphertexts, %d keys", len(c.Ciphertexts), len(ring.Keys))
	}
	for _, v := range c.Ciphertexts {
		sealed := &commonpb.Payload{Metadata: map[string][]byte{}, Data: b64(t, v.DataBase64)}
		for k, val := range v.Metadata {
			sealed.Metadata[k] = []byte(val)
		}
		// Decrypt: the vector opens to the payload.
		opened, err := (&Codec{Ring: ring}).Decode([]*commonpb.Payload{sealed})
		if err != nil {
			t.Fatalf("key %s: %v", v.KeyID, err)
		}
		if !proto.Equal(opened[0], payload) {
			t.Errorf("key %s: decrypted %v, want %v", v.KeyID, opened[0], payload)
		}
		// Encrypt: with this key as the primary and the vector's IV, the same bytes.
		own := &KeyRing{Primary: v.KeyID, Keys: ring.Keys}
		iv := b64(t, v.IVBase64)
		encoded, err := (&Codec{Ring: own, iv: func() []byte { return iv }}).Encode([]*commonpb.Payload{payload})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(encoded[0].Data, sealed.Data) {
			t.Errorf("key %s: encrypted data differs from the vector", v.KeyID)
		}
		if got := metadataOf(encoded[0]); len(got) != len(v.Metadata) || got[MetadataKeyID] != v.KeyID || got["encoding"] != EncryptedEncoding || got[MetadataCipher] != Cipher {
			t.Errorf("key %s: metadata %v, want %v", v.KeyID, got, v.Metadata)
		}
		if v.AssociatedData != string(associatedData(v.KeyID)) {
			t.Errorf("associated data %q, want %q", associatedData(v.KeyID), v.AssociatedData)
		}
	}
	// Relabelled with the other key id, or altered: no decryption, never a pass-through.
	first, second := c.Ciphertexts[0], c.Ciphertexts[1]
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{}, Data: b64(t, first.DataBase64)}
	for k, val := range first.Metadata {
		relabelled.Metadata[k] = []byte(val)
	}
	relabelled.Metadata[MetadataKeyID] = []byte(second.KeyID)
	if _, err := (&Codec{Ring: ring}).Decode([]*commonpb.Payload{relabelled}); err == nil || !strings.Contains(err.Error(), "does not decrypt") {
		t.Errorf("a relabelled ciphertext: %v", err)
	}
	unknown := proto.Clone(relabelled).(*commonpb.Payload)
	unknown.Metadata[MetadataKeyID] = []byte("nope")
	if _, err := (&Codec{Ring: ring}).Decode([]*commonpb.Payload{unknown}); err == nil || !strings.Contains(err.Error(), "not in the key ring") {
		t.Errorf("an unknown key id: %v", err)
	}
	// A payload that is not encrypted passes unchanged.
	passed, err := (&Codec{Ring: ring}).Decode([]*commonpb.Payload{payload})
	if err != nil || passed[0] != payload {
		t.Errorf("a clear payload: %v", err)
	}
}
