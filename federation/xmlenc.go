package federation

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"fmt"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/fedtoken"
	"github.com/calfed/calfed/internal/xmltree"
)

// encrypted is an xenc:EncryptedData as a delegation token carries it.
type encrypted struct {
	dataAlg   string
	keyAlg    string
	ski       []byte
	wrapped   []byte
	cipherTxt []byte
}

func childNS(el *etree.Element, ns, local string) []*etree.Element {
	return xmltree.Children(el, ns, local)
}

// one returns the only child ns:local of el, or an error naming it.
func one(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := childNS(el, ns, local)
	switch len(cs) {
	case 1:
		return cs[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %s has no %s", ErrMalformed, el.Tag, local)
	}
	return nil, fmt.Errorf("%w: %s has %d %s elements", ErrMalformed, el.Tag, len(cs), local)
}

func b64(el *etree.Element) ([]byte, error) {
	b, err := xmltree.Base64(el)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", ErrMalformed, el.Tag)
	}
	return b, nil
}

// parseEncrypted reads EncryptedData/{EncryptionMethod, KeyInfo/EncryptedKey
// /{EncryptionMethod, KeyInfo/SecurityTokenReference/KeyIdentifier,
// CipherData/CipherValue}, CipherData/CipherValue}. docs/protocol.md §4.3.
func parseEncrypted(ed *etree.Element) (*encrypted, error) {
	var e encrypted
	m, err := one(ed, nsXEnc, "EncryptionMethod")
	if err != nil {
		return nil, err
	}
	e.dataAlg = m.SelectAttrValue("Algorithm", "")
	ki, err := one(ed, nsDSig, "KeyInfo")
	if err != nil {
		return nil, err
	}
	ek, err := one(ki, nsXEnc, "EncryptedKey")
	if err != nil {
		return nil, err
	}
	km, err := one(ek, nsXEnc, "EncryptionMethod")
	if err != nil {
		return nil, err
	}
	e.keyAlg = km.SelectAttrValue("Algorithm", "")
	eki, err := one(ek, nsDSig, "KeyInfo")
	if err != nil {
		return nil, err
	}
	str, err := one(eki, nsWSSE, "SecurityTokenReference")
	if err != nil {
		return nil, err
	}
	kid, err := one(str, nsWSSE, "KeyIdentifier")
	if err != nil {
		return nil, err
	}
	if vt := kid.SelectAttrValue("ValueType", ""); vt != valueSKI {
		return nil, fmt.Errorf("%w: KeyIdentifier ValueType %q is not a Subject Key Identifier", ErrMalformed, vt)
	}
	if e.ski, err = b64(kid); err != nil {
		return nil, err
	}
	for _, pair := range []struct {
		parent *etree.Element
		dst    *[]byte
	}{{ek, &e.wrapped}, {ed, &e.cipherTxt}} {
		cd, err := one(pair.parent, nsXEnc, "CipherData")
		if err != nil {
			return nil, err
		}
		cv, err := one(cd, nsXEnc, "CipherValue")
		if err != nil {
			return nil, err
		}
		if *pair.dst, err = b64(cv); err != nil {
			return nil, err
		}
	}
	return &e, nil
}

// newDataCipher is the block cipher of an accepted data algorithm:
// 3DES-CBC or AES-CBC (XML Encryption 1.0 §5.2; variants.go).
func newDataCipher(alg string, key []byte) (cipher.Block, error) {
	if alg == fedtoken.AlgTripleDESCBC {
		return des.NewTripleDESCipher(key)
	}
	return aes.NewCipher(key)
}

// decrypt unwraps the session key with priv and decrypts the data;
// rsa15 accepts PKCS#1 v1.5 key transport. Every failure after the
// algorithm checks is the same error, so the answers cannot be used as a
// padding oracle.
func (e *encrypted) decrypt(priv *rsa.PrivateKey, rsa15 bool) ([]byte, error) {
	keyLen, ok := fedtoken.DataKeyLength(e.dataAlg)
	if !ok {
		return nil, fmt.Errorf("%w: data algorithm %q", ErrAlgorithm, e.dataAlg)
	}
	var key []byte
	switch {
	case e.keyAlg == algRSAOAEP:
		k, err := rsa.DecryptOAEP(sha1.New(), nil, priv, e.wrapped, nil)
		if err != nil {
			return nil, ErrDecrypt
		}
		key = k
	case e.keyAlg == algRSA15 && rsa15:
		// A random key of the right length on failure, so a bad padding and
		// a bad plaintext fail alike later (RFC 3218 2.3.2).
		key = make([]byte, keyLen)
		rand.Read(key)
		// PKCS#1 v1.5 key transport only when configured
		// (federation.accept_rsa15_key_transport): the gateway uses OAEP
		// (FINDINGS §1.2); docs/protocol.md §4.3.
		//lint:ignore SA1019 opt-in for peers that send it; the random key above keeps it oracle-free
		if err := rsa.DecryptPKCS1v15SessionKey(nil, priv, e.wrapped, key); err != nil {
			return nil, ErrDecrypt
		}
	default:
		return nil, fmt.Errorf("%w: key transport %q", ErrAlgorithm, e.keyAlg)
	}
	if len(key) != keyLen {
		return nil, ErrDecrypt
	}
	block, err := newDataCipher(e.dataAlg, key)
	if err != nil {
		return nil, ErrDecrypt
	}
	bs := block.BlockSize()
	ct := e.cipherTxt
	if len(ct) < 2*bs || len(ct)%bs != 0 {
		return nil, ErrDecrypt
	}
	// The first block is the IV: 8 bytes for 3DES, 16 for AES.
	iv, body := ct[:bs], ct[bs:]
	plain := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, body)
	// ISO 10126 padding: the last byte is the length; the others are
	// random and not checked (XML Encryption 5.2).
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs {
		return nil, ErrDecrypt
	}
	return plain[:len(plain)-pad], nil
}
