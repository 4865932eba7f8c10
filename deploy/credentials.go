package deploy

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// LoadCredentials are the ALIBABA_CLOUD_* variables, else the key pair
// `s config add` stored in ~/.s/access.yaml under the alias
// PICBED_S_ACCESS (default "default"), so that after `s config add` no
// key is typed twice.
func LoadCredentials(getenv func(string) string) (Credentials, error) {
	c := Credentials{ID: getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), Secret: getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), Token: getenv("ALIBABA_CLOUD_SECURITY_TOKEN")}
	if c.ID != "" && c.Secret != "" {
		return c, nil
	}
	alias := getenv("PICBED_S_ACCESS")
	if alias == "" {
		alias = "default"
	}
	home := getenv("HOME")
	path := filepath.Join(home, ".s", "access.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("no credentials: run `s config add` (alias %s) or export ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (%v)", alias, err)
	}
	var all map[string]map[string]string
	if err := yaml.Unmarshal(b, &all); err != nil {
		return c, fmt.Errorf("%s: %v", path, err)
	}
	a, ok := all[alias]
	if !ok {
		return c, fmt.Errorf("%s has no alias %q: run `s config add -a %s`, or set PICBED_S_ACCESS to one of its aliases", path, alias, alias)
	}
	c = Credentials{ID: sDecrypt(a["AccessKeyID"]), Secret: sDecrypt(a["AccessKeySecret"]), Token: sDecrypt(a["SecurityToken"])}
	if c.ID == "" || c.Secret == "" {
		return c, fmt.Errorf("%s alias %q has no AccessKeyID/AccessKeySecret: run `s config add -a %s` again", path, alias, alias)
	}
	return c, nil
}

// sPassphrase is the fixed passphrase Serverless Devs 3 encrypts
// access.yaml values with (CRYPTO_STRING in its source): the file is
// obscured, not protected, so keep ~/.s private.
const sPassphrase = "SecretKey123"

// sDecrypt undoes Serverless Devs' crypto-js AES.encrypt(value,
// passphrase): base64 of "Salted__" + 8-byte salt + AES-256-CBC with
// OpenSSL's EVP_BytesToKey (MD5, one round) key and IV, PKCS#7 padding.
// A value that is not in that form is returned as is, as s does.
func sDecrypt(v string) string {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) < 32 || !bytes.HasPrefix(raw, []byte("Salted__")) || (len(raw)-16)%aes.BlockSize != 0 {
		return v
	}
	salt, data := raw[8:16], raw[16:]
	var kiv, prev []byte
	for len(kiv) < 48 {
		h := md5.New()
		h.Write(prev)
		h.Write([]byte(sPassphrase))
		h.Write(salt)
		prev = h.Sum(nil)
		kiv = append(kiv, prev...)
	}
	block, _ := aes.NewCipher(kiv[:32])
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, kiv[32:48]).CryptBlocks(out, data)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(out) {
		return v
	}
	return string(out[:len(out)-pad])
}
