package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"picbed/handler/cms"
	"picbed/handler/extract"
	"picbed/handler/fetch"
	"picbed/imageproc"
	"picbed/storage"
)

// connector is one CMS picbed writes posts back to (handler/cms: Ghost,
// WordPress, Git forge).
type connector interface {
	Name() string
	// Origin is the CMS's scheme://host[:port]: the fetcher may reach it
	// even when it is a private address, to rehost the CMS's own images.
	Origin() string
	// Target tells whether a verified webhook payload is this CMS's, and
	// which content it names (ids only).
	Target(hd http.Header, payload any) (cms.Target, bool, error)
	// Run reads the content, has rw rewrite it, and writes it back.
	Run(ctx context.Context, t cms.Target, rw cms.Rewriter) (cms.Report, error)
}

// Where jobs live in the store. Records sit outside the public prefix and
// the inbox; on Function Compute the job itself is dropped under the inbox
// so the OSS trigger runs it (after the webhook was answered) with FC's
// async retries.
const (
	jobRecords = "picbed-jobs/"
	jobInbox   = "picbed-jobs/" // under PICBED_INBOX_PREFIX
	// jobBudget bounds one run: rehosting (remoteBudget) plus the CMS calls,
	// under the function's 120 s timeout.
	jobBudget = 115 * time.Second
)

// Job states.
const (
	jobQueued  = "queued"
	jobRunning = "running"
	jobDone    = "done"
	jobFailed  = "failed"
)

// Job is what GET /api/jobs/{id} answers: what one webhook asked for and
// what came of it.
type Job struct {
	ID        string      `json:"id"`
	Status    string      `json:"status"` // queued | running | done | failed
	Target    cms.Target  `json:"target"`
	Created   time.Time   `json:"created"`
	Updated   time.Time   `json:"updated"`
	Attempts  int         `json:"attempts"`
	Rehosted  int         `json:"rehosted"`
	Failed    int         `json:"failed"`
	Images    []cms.Image `json:"images"`
	Written   bool        `json:"written"` // the post was written back
	Conflicts int         `json:"conflicts,omitempty"`
	Files     []string    `json:"files,omitempty"`
	Commit    string      `json:"commit,omitempty"`
	Note      string      `json:"note,omitempty"`
	Error     string      `json:"error,omitempty"` // why the job failed, for a person
	Retry     bool        `json:"retry,omitempty"` // the failure was transient; FC retries it
}

var jobID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// WithJobDone calls fn with a job's id each time a job has run and its
// record is written (tests wait on it instead of on the clock).
func WithJobDone(fn func(id string)) Option { return func(h *Handler) { h.jobDone = fn } }

// newConnectors builds the connectors cfg configures.
func newConnectors(cfg Config) []connector {
	var cs []connector
	if cfg.GhostURL != "" {
		if g, err := cms.NewGhost(cfg.GhostURL, cfg.GhostAdminKey); err == nil {
			cs = append(cs, g)
		}
	}
	if cfg.WPURL != "" {
		if w, err := cms.NewWordPress(cfg.WPURL, cfg.WPUser, cfg.WPAppPassword); err == nil {
			cs = append(cs, w)
		}
	}
	if cfg.GitAPI != "" {
		if g, err := cms.NewGit(cfg.GitAPI, cfg.GitToken, cfg.GitPaths); err == nil {
			cs = append(cs, g)
		}
	}
	return cs
}

// cmsWebhook hands a verified webhook to the connector it belongs to:
// a job is recorded and started, and the answer (202 with the job id)
// goes out at once. handled is false when no configured connector claims
// the payload (the webhook then rehosts and answers as before).
func (h *Handler) cmsWebhook(w http.ResponseWriter, r *http.Request, body []byte, payload any) (handled bool, err error) {
	for _, c := range h.connectors {
		t, mine, err := c.Target(r.Header, payload)
		if !mine {
			continue
		}
		var ign *cms.Ignored
		if errors.As(err, &ign) {
			writeJSON(w, http.StatusOK, map[string]any{"cms": c.Name(), "ignored": ign.Reason})
			return true, nil
		}
		if err != nil {
			return true, err
		}
		job, dup, err := h.queueJob(r.Context(), t, body)
		if err != nil {
			return true, err
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"job": job.ID, "status": job.Status, "cms": c.Name(),
			"duplicate": dup, "url": "/api/jobs/" + job.ID})
		return true, nil
	}
	return false, nil
}

// queueJob records a job for t and starts it, unless the same event (a
// CMS retry: same content, same version) already has a job that did not
// fail: that one is answered again and nothing repeats.
func (h *Handler) queueJob(ctx context.Context, t cms.Target, body []byte) (Job, bool, error) {
	// The event is the content named plus the exact body: a CMS's retry
	// or redelivery sends the same bytes; two saves within one second
	// (Ghost's updated_at and WordPress's modified_gmt have second
	// resolution) still differ in what they carry.
	bodySum := sha256.Sum256(body)
	sum := sha256.Sum256([]byte(t.Key() + "\x02" + string(bodySum[:])))
	id := hex.EncodeToString(sum[:12])
	if old, err := h.readJob(ctx, id); err == nil && old.Status != jobFailed && !h.stale(old) {
		return old, true, nil
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Job{}, false, err
	}
	now := h.now().UTC()
	job := Job{ID: id, Status: jobQueued, Target: t, Created: now, Updated: now, Images: []cms.Image{}}
	if err := h.writeJob(ctx, job); err != nil {
		return Job{}, false, err
	}
	if h.cfg.JobsViaInbox {
		// The function may be frozen once the answer is out: the job goes
		// into the inbox, and the OSS trigger runs it (ProcessObject).
		b, _ := json.Marshal(map[string]string{"job": id})
		err := h.store.Put(ctx, h.cfg.InboxPrefix+jobInbox+id+".json", b, storage.PutOptions{ContentType: "application/json"})
		return job, false, err
	}
	go h.runLocal(context.WithoutCancel(ctx), id)
	return job, false, nil
}

// localRetries are the waits before a local job that failed transiently
// (the CMS down, 5xx, edits colliding) runs again; on FC the OSS trigger's
// async retries do this.
var localRetries = []time.Duration{10 * time.Second, time.Minute}

// runLocal runs a job in this process (local mode), again after each of
// localRetries while it fails transiently.
func (h *Handler) runLocal(ctx context.Context, id string) {
	for i := 0; ; i++ {
		_, err := h.runJob(ctx, id, i < len(localRetries))
		if err == nil || !cms.IsTransient(err) || i == len(localRetries) {
			return
		}
		h.wait(localRetries[i])
	}
}

// stale tells a job that was queued or running long past any run's budget:
// its runner is gone (a local server restarted mid-job), so a redelivery
// of the event starts it again instead of being answered as a duplicate.
func (h *Handler) stale(j Job) bool {
	return (j.Status == jobQueued || j.Status == jobRunning) && h.now().Sub(j.Updated) > 2*jobBudget
}

// runJob runs a recorded job: the connector reads, rewrites and writes
// back; the record says what happened, and is returned as written (zero
// when there is none). A transient failure is returned (on FC the OSS
// event is then retried); every other outcome is recorded and answered
// nil: running it again would fail the same way.
func (h *Handler) runJob(ctx context.Context, id string, willRetry bool) (Job, error) {
	ctx, cancel := context.WithTimeout(ctx, jobBudget)
	defer cancel()
	job, err := h.readJob(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return Job{}, nil // a job object without a record: nothing to run
	}
	if err != nil {
		return Job{}, err
	}
	if job.Status == jobDone {
		return job, nil // a redelivered event
	}
	var conn connector
	for _, c := range h.connectors {
		if c.Name() == job.Target.CMS {
			conn = c
		}
	}
	job.Attempts++
	job.Status, job.Updated = jobRunning, h.now().UTC()
	if err := h.writeJob(ctx, job); err != nil {
		return job, err
	}
	var rep cms.Report
	if conn == nil {
		err = fmt.Errorf("the %s connector is not configured any more", job.Target.CMS)
	} else {
		rep, err = conn.Run(withJobFetcher(ctx), job.Target, cmsRewriter{h: h, rc: h.cfg.Recipe()})
	}
	job.Images, job.Written, job.Conflicts, job.Files, job.Commit, job.Note = rep.Images, rep.Written, rep.Conflicts, rep.Files, rep.Commit, rep.Note
	if job.Images == nil {
		job.Images = []cms.Image{}
	}
	job.Rehosted, job.Failed = 0, 0
	for _, im := range job.Images {
		if im.URL != "" {
			job.Rehosted++
		} else {
			job.Failed++
		}
	}
	job.Status, job.Error, job.Retry, job.Updated = jobDone, "", false, h.now().UTC()
	transient := err != nil && cms.IsTransient(err)
	if err != nil {
		job.Status, job.Error = jobFailed, classifyJob(err)
		job.Retry = transient && willRetry
	}
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelWarn
	}
	logFrom(ctx).Log(ctx, lvl, "job finished", "job", job.ID, "cms", job.Target.CMS, "kind", job.Target.Kind, "id", job.Target.ID,
		"repo", job.Target.Repo, "status", job.Status, "written", job.Written, "rehosted", job.Rehosted, "failed", job.Failed,
		"conflicts", job.Conflicts, "error", redact(job.Error))
	werr := h.writeJob(context.WithoutCancel(ctx), job)
	if h.jobDone != nil {
		h.jobDone(job.ID)
	}
	if werr != nil {
		return job, werr
	}
	if transient {
		return job, err
	}
	return job, nil
}

// classifyJob is the public message of a job's failure.
func classifyJob(err error) string {
	var ce *cms.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	if e := classify(err); e.Status != http.StatusInternalServerError {
		return e.Message
	}
	return err.Error()
}

func (h *Handler) readJob(ctx context.Context, id string) (Job, error) {
	b, _, err := h.store.Get(ctx, jobRecords+id+".json")
	if err != nil {
		return Job{}, err
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return Job{}, fmt.Errorf("job record %s: %w", id, err)
	}
	return j, nil
}

func (h *Handler) writeJob(ctx context.Context, j Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return h.store.Put(ctx, jobRecords+j.ID+".json", b, storage.PutOptions{ContentType: "application/json"})
}

// getJob is GET /api/jobs/{id} (token): a webhook job's record.
func (h *Handler) getJob(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !jobID.MatchString(id) {
		return errorf(http.StatusNotFound, "not_found", "no such job: job ids are 24 hex digits, as POST /webhook answered")
	}
	j, err := h.readJob(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no such job")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

// jobObject tells an inbox key that is a queued job, and its id.
func (h *Handler) jobObject(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, h.cfg.InboxPrefix+jobInbox)
	id, isJSON := strings.CutSuffix(rest, ".json")
	return id, ok && isJSON && jobID.MatchString(id)
}

// processJobObject runs the job an inbox object names (FC), then deletes
// the object; a transient failure keeps it and returns the error, so FC
// retries the event.
func (h *Handler) processJobObject(ctx context.Context, in InboxObject, id string) (Outcome, error) {
	out := Outcome{Key: in.Key}
	j, err := h.runJob(ctx, id, true)
	if err != nil {
		return h.transient(out, err) // FC retries the event
	}
	if j.ID != "" {
		out.Reason = fmt.Sprintf("job %s: %s, %d rehosted, %d failed, written %v", id, j.Status, j.Rehosted, j.Failed, j.Written)
	}
	out.Status = Processed
	if err := h.store.Delete(ctx, in.Key); err != nil && !errors.Is(err, storage.ErrNotFound) {
		logFrom(ctx).Warn("deleting a finished job object", "key", in.Key, "err", redact(err.Error()))
	}
	return out, nil
}

// cmsRewriter is the Rewriter connectors get: picbed's extractor finds the
// images of each text, the fetcher and store move them here (the job's
// fetcher may reach the configured CMS origins), and the texts come back
// with the new links.
type cmsRewriter struct {
	h  *Handler
	rc imageproc.Recipe
}

func (cr cmsRewriter) Rewrite(ctx context.Context, docs []cms.Doc, base string) ([]string, []cms.Image) {
	var links []extract.Link
	for _, d := range docs {
		walkStrings(d.Text, d.Field, 0, func(key, s string) { links = append(links, stringLinks(key, s)...) })
	}
	b, _ := url.Parse(base)
	if base == "" {
		b = nil
	}
	results, repl := cr.h.rehostResults(ctx, links, b, cr.rc)
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = rewriteString(d.Field, d.Text, repl, 0)
	}
	imgs := make([]cms.Image, 0, len(results))
	for _, r := range results {
		imgs = append(imgs, cms.Image{Source: fetch.StripUserinfo(r.Source), URL: r.URL, Error: r.Error, Code: r.Code})
	}
	return out, imgs
}
