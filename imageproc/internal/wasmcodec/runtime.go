// Package wasmcodec runs the HEIC, AVIF and WebP codecs picbed has no Go
// implementation of, compiled to WebAssembly: libde265 alone for HEVC
// pictures (lib/de265.wasm.gz, built with WebAssembly SIMD from Debian's
// source by lib/de265/build.sh), libwebp (lib/webp.wasm.gz, likewise by
// lib/webp-build.sh), and libheif+libde265 and libavif+dav1d/aom (the
// builds of github.com/gen2brain/heic v0.4.5 and avif v0.4.4, copied into
// lib/ with their licences), under one wazero runtime that picbed
// configures itself:
//
//   - a compilation cache directory (UseCacheDir), so a fresh process loads
//     the machine code compiled earlier (at build time for FC, shipped in the
//     zip) instead of compiling ~700 KB of WebAssembly on its first HEIC;
//   - Warm, which compiles (or loads) every module ahead of the first
//     request, in the background at process start;
//   - one instance per call, so calls run in parallel (a HEIC grid's tiles
//     decode on both cores).
package wasmcodec

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

var (
	//go:embed lib/heif.wasm.gz
	heifWasm []byte
	//go:embed lib/de265.wasm.gz
	de265Wasm []byte
	//go:embed lib/avif-decode.wasm.gz
	avifWasm []byte
	//go:embed lib/webp.wasm.gz
	webpWasm []byte
)

// module is one codec's WebAssembly, compiled once per process.
type module struct {
	name string
	gz   []byte
	once sync.Once
	cm   wazero.CompiledModule
	err  error

	// reuse keeps instances whose call succeeded and whose memory stayed
	// under reuseMaxMemory for the next call (HEIC tiles: one fresh
	// instance per 512x512 tile allocated ~9 MB of Go memory each)
	reuse bool
	mu    sync.Mutex
	// start is the export run once per new instance: de265's
	// _initialize runs libde265's C++ constructors (the gen2brain builds
	// were always run without theirs, as gen2brain runs them)
	start string
	idle  []*instance
}

// reuseMaxMemory is the largest instance memory kept for reuse, and
// maxIdle how many are kept per module (one per tile worker): at most
// 2 x 32 MiB stay resident between requests.
const (
	reuseMaxMemory = 32 << 20
	maxIdle        = 2
)

var (
	heif  = &module{name: "heif", gz: heifWasm, reuse: true}
	de265 = &module{name: "de265", gz: de265Wasm, start: "_initialize"} // reused within one HEVCDecoder only
	avif  = &module{name: "avif", gz: avifWasm}
	webp  = &module{name: "webp", gz: webpWasm, reuse: true} // a 1920x1440 encode: 27 MiB

	modules = []*module{de265, heif, avif, webp}
)

// the runtime, made on first use with the cache directory set before it
var (
	rtMu     sync.Mutex
	rt       wazero.Runtime
	cacheDir string
	cacheErr error
)

// UseCacheDir makes dir the compilation cache of the runtime: compiled
// modules are read from it when present and written to it when not. It
// only has an effect before the first codec call or Warm, and dir must be
// writable (a read-only shipped cache is linked into one by SeedCache).
func UseCacheDir(dir string) {
	rtMu.Lock()
	defer rtMu.Unlock()
	if rt == nil {
		cacheDir = dir
	}
}

func runtime() wazero.Runtime {
	rtMu.Lock()
	defer rtMu.Unlock()
	if rt != nil {
		return rt
	}
	ctx := context.Background()
	// WithCloseOnContextDone(true) would let a cancelled context stop a
	// decode, but its checks in every loop made libde265 ~4.6x slower
	// (measured: 498 against 108 ms CPU per 700x600 grid): contexts are not
	// watched inside a codec call.
	cfg := wazero.NewRuntimeConfigCompiler()
	if cacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			cacheErr = err // compile in memory, as without a cache
		} else {
			cfg = cfg.WithCompilationCache(c)
		}
	}
	rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	return rt
}

// CacheError reports why the configured cache directory could not be used
// (nil when it is in use or none was configured).
func CacheError() error {
	rtMu.Lock()
	defer rtMu.Unlock()
	return cacheErr
}

func (m *module) compiled() (wazero.CompiledModule, error) {
	m.once.Do(func() {
		r, err := gzip.NewReader(bytes.NewReader(m.gz))
		if err != nil {
			m.err = err
			return
		}
		code, err := io.ReadAll(r)
		if err != nil {
			m.err = err
			return
		}
		m.cm, m.err = runtime().CompileModule(context.Background(), code)
		if m.err != nil {
			m.err = fmt.Errorf("%s: compile: %w", m.name, m.err)
		}
	})
	return m.cm, m.err
}

// Warm compiles (or loads from the cache) every codec module now, so the
// first request does not wait for it. Safe to call concurrently with codec
// calls: they wait for the same compilation instead of starting another.
func Warm() error {
	var errs []error
	for _, m := range modules {
		if _, err := m.compiled(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// instance is one fresh instance of a module for one call; its memory is
// dropped by close.
type instance struct {
	ctx          context.Context
	mod          api.Module
	malloc, free api.Function
	m            *module
	allocs       []uint32 // freed when the instance is kept for reuse
	failed       bool     // a call trapped or refused: never reused
}

var modCfg = wazero.NewModuleConfig().WithName("") // anonymous: any number at once, no output

func (m *module) instance(ctx context.Context) (*instance, error) {
	m.mu.Lock()
	if n := len(m.idle); n > 0 {
		in := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		in.ctx = ctx
		return in, nil
	}
	m.mu.Unlock()
	cm, err := m.compiled()
	if err != nil {
		return nil, err
	}
	cfg := modCfg
	if m.start != "" {
		cfg = cfg.WithStartFunctions(m.start)
	}
	mod, err := runtime().InstantiateModule(ctx, cm, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: instantiate: %w", m.name, err)
	}
	return &instance{ctx: ctx, mod: mod, malloc: mod.ExportedFunction("malloc"), free: mod.ExportedFunction("free"), m: m}, nil
}

// close ends the call: the instance goes back for the next one when its
// module reuses instances, the call succeeded, what it allocated is freed
// and its memory stayed small; otherwise it is dropped with its memory.
func (in *instance) close() {
	if m := in.m; m.reuse && !in.failed && in.mod.Memory().Size() <= reuseMaxMemory && in.freeAll() {
		m.mu.Lock()
		if len(m.idle) < maxIdle {
			m.idle = append(m.idle, in)
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
	}
	in.mod.Close(in.ctx)
}

func (in *instance) freeAll() bool {
	for _, p := range in.allocs {
		if _, err := in.free.Call(in.ctx, uint64(p)); err != nil {
			return false
		}
	}
	in.allocs = in.allocs[:0]
	return true
}

// load instantiates m with data copied in and n uint32 out-variables
// allocated after it: how every decode starts.
func (m *module) load(ctx context.Context, data []byte, n int) (in *instance, src, vars uint32, err error) {
	if in, err = m.instance(ctx); err != nil {
		return nil, 0, 0, err
	}
	if src, err = in.put(data); err == nil {
		vars, err = in.alloc(4 * n)
	}
	if err != nil {
		in.close()
		return nil, 0, 0, err
	}
	return in, src, vars, nil
}

// probe and firstFrame are the two calls of an AVIF or WebP decode:
// decode(src, n, info, decode_all, v0..v3, delay, out). probe (info=1)
// only fills the four uint32 out-variables at vars (width and height
// first); firstFrame decodes the first frame, w x h pixels of bpp bytes
// (the probe's numbers, bounded here before they are multiplied: they come
// from the module), with delayN bytes for the frame's delay.
func (in *instance) probe(src uint32, n int, vars uint32) error {
	return in.decode(uint64(src), uint64(n), 1, 0, uint64(vars), uint64(vars+4), uint64(vars+8), uint64(vars+12), 0, 0)
}

func (in *instance) firstFrame(src uint32, n int, vars uint32, w, h, bpp, delayN int) ([]byte, error) {
	if w <= 0 || h <= 0 || uint64(w)*uint64(h) >= (1<<32)/uint64(bpp) { // must fit the module's 4 GiB
		return nil, ErrDecode
	}
	size := w * h * bpp
	out, err := in.alloc(size)
	if err != nil {
		return nil, err
	}
	// cleared: a kept instance's malloc hands back what an earlier call (an
	// earlier request's picture) left there, and libwebp's animation
	// decoder writes nothing and reports success for a file without frames
	b, ok := in.mod.Memory().Read(out, uint32(size))
	if !ok {
		in.failed = true
		return nil, errMem
	}
	clear(b)
	delay, err := in.alloc(delayN)
	if err != nil {
		return nil, err
	}
	if err := in.decode(uint64(src), uint64(n), 0, 0, uint64(vars), uint64(vars+4), uint64(vars+8), uint64(vars+12), uint64(delay), uint64(out)); err != nil {
		return nil, err
	}
	return in.bytes(out, size)
}

// decode calls the module's decode export; its zero result is ErrDecode.
func (in *instance) decode(args ...uint64) error {
	ok, err := in.call("decode", args...)
	if err != nil {
		return err
	}
	if ok == 0 {
		in.failed = true // libheif leaves a refused file's context behind
		return ErrDecode
	}
	return nil
}

// alloc reserves n bytes of the instance's memory.
func (in *instance) alloc(n int) (uint32, error) {
	res, err := in.malloc.Call(in.ctx, uint64(n))
	if err != nil {
		in.failed = true
		return 0, fmt.Errorf("malloc: %w", err)
	}
	if res[0] == 0 {
		in.failed = true
		return 0, errors.New("malloc: out of memory")
	}
	in.allocs = append(in.allocs, uint32(res[0]))
	return uint32(res[0]), nil
}

// put copies data into freshly allocated memory.
func (in *instance) put(data []byte) (uint32, error) {
	p, err := in.alloc(len(data))
	if err != nil {
		return 0, err
	}
	if !in.mod.Memory().Write(p, data) {
		in.failed = true
		return 0, errMem
	}
	return p, nil
}

// call runs an exported function; a zero result is the codec's failure.
func (in *instance) call(name string, args ...uint64) (uint64, error) {
	res, err := in.mod.ExportedFunction(name).Call(in.ctx, args...)
	if err != nil {
		in.failed = true
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return res[0], nil
}

func (in *instance) u32(p uint32) uint32 {
	v, _ := in.mod.Memory().ReadUint32Le(p)
	return v
}

// bytes copies n bytes out of the instance's memory (the memory itself is
// dropped with the instance, so nothing keeps the whole of it alive).
func (in *instance) bytes(p uint32, n int) ([]byte, error) {
	b, ok := in.mod.Memory().Read(p, uint32(n))
	if !ok {
		return nil, errMem
	}
	return bytes.Clone(b), nil
}

var errMem = errors.New("wasm memory access out of range")

// ErrDecode is a codec's refusal of its input; ErrEncode the encoder's.
var (
	ErrDecode = errors.New("the decoder refused the data")
	ErrEncode = errors.New("the encoder failed")
)
