// End-to-end tests of the unetlab kernel in JupyterLab 4 and Notebook 7,
// driven in Debian's headless Chromium by playwright-core. Run through
// browser/run.sh, which installs what this needs (README.md, `make browser`).
//
// Environment: UNETLAB_BIN (the built kernel), JUPYTER_BIN (the directory of
// a `jupyter` with JupyterLab 4 and Notebook 7), CHROMIUM (the browser),
// ARTIFACTS (screenshots), NOTEBOOKS (the folder of the shipped notebooks),
// LAB_NOTEBOOKS and NB7_NOTEBOOKS (space-separated names run with Run All in
// each front end; "-" for none), ONLY (a regexp of test names to run).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, cpSync, writeFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const env = process.env;
const bin = env.UNETLAB_BIN || join(root, 'bin/unetlab');
const jupyterDir = env.JUPYTER_BIN || join(root, '.venv/bin');
const chromiumPath = env.CHROMIUM || '/usr/bin/chromium';
const artifacts = env.ARTIFACTS || join(root, 'build/browser-artifacts');
const notebooksDir = env.NOTEBOOKS || join(root, 'notebooks');
const only = env.ONLY ? new RegExp(env.ONLY) : null;
const shipped = readdirSync(notebooksDir).filter((f) => /^\d\d_.*\.ipynb$/.test(f)).sort();
const list = (v, dflt) => (v === undefined ? dflt : v === '-' ? [] : v.split(/\s+/).filter(Boolean));
const labNotebooks = list(env.LAB_NOTEBOOKS, shipped);
const nb7Notebooks = list(env.NB7_NOTEBOOKS, ['hello.ipynb']);
const allow = JSON.parse(readFileSync(join(here, 'console-allowlist.json'), 'utf8'));
mkdirSync(artifacts, { recursive: true });

const results = [];
let currentPage = null;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

// interact.ipynb: the cells the interaction tests run, by index.
const interactCells = [
	'import (\n\t"fmt"\n\t"time"\n)',
	'fmt.Println("ready")',
	'time.Sleep(time.Minute)',
	'fmt.Println("after interrupt")',
	'var name string\nfmt.Print("name? ")\nfmt.Scanln(&name)\nfmt.Println("hello,", name)',
	'panic("boom from a cell")',
	'fmt.Println("survived", 6*7)',
	'',
];
// widgets.ipynb: the cells the widget tests run, by index. A test that
// ONLY picks alone runs cell 0 and the earlier cells it uses itself.
const widgetCells = [
	`import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/unetlab/unetlab/grid"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
	"github.com/unetlab/unetlab/widget"
	"github.com/unetlab/unetlab/widget/views"
)`,
	// 1: image | truth | prediction, scrolled together.
	`sh := [3]int{40, 36, 30}
img, truth, pred := volume.New(sh, 1), volume.New(sh, 1), volume.New(sh, 1)
for z := 0; z < sh[2]; z++ {
	for y := 0; y < sh[1]; y++ {
		for x := 0; x < sh[0]; x++ {
			img.Set(0, x, y, z, float32(x+2*y+3*z))
			dx, dy, dz := x-20, y-18, z-15
			if dx*dx+dy*dy+dz*dz < 100 {
				truth.Set(0, x, y, z, 1)
			}
			dx++
			if dx*dx+dy*dy+dz*dz < 90 {
				pred.Set(0, x, y, z, 1)
			}
		}
	}
}
slicer, err := views.Compare(img, truth, pred, nil)
if err != nil {
	panic(err)
}
slicer`,
	// 2: the library's PNGs of the slice the slider shows.
	`func pngHash(panel int) string {
	o := slicer.ViewOptions(panel)
	v, err := viz.Slice(img, slicer.ShownPlane(), slicer.Index.Value(), &o)
	if err != nil {
		panic(err)
	}
	b, err := v.PNG()
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}
fmt.Printf("index=%d image=%s truth=%s pred=%s\\n", slicer.Index.Value(), pngHash(0), pngHash(1), pngHash(2))`,
	// 3: a Go callback writing into an Output widget; Play linked to a slider in the browser.
	`out, _ := widget.NewOutput()
hello, _ := widget.NewButton("Say hello", "primary", "")
clicks := 0
hello.OnClick(func() {
	clicks++
	out.Printf("hello %d from Go\\n", clicks)
})
play, _ := widget.NewPlay(&widget.PlayOptions{Max: 30, Interval: 50})
follower, _ := widget.NewIntSlider(&widget.IntSliderOptions{Max: 30, Description: "linked"})
widget.NewLink(play, "value", follower, "value")
check, _ := widget.NewCheckbox("a checkbox", true)
menu, _ := widget.NewDropdown("menu", []string{"one", "two"}, 1)
fs, _ := widget.NewFloatSlider(&widget.FloatSliderOptions{Value: 0.5, Description: "float"})
row, _ := widget.NewHBox(play, follower)
controls, _ := widget.NewVBox(hello, out, row, check, menu, fs)
controls`,
	// 4: the 3D view with the labels opaque.
	`c := viz.LabelColour(1)
fmt.Printf("label colour %d %d %d\\n", c.R, c.G, c.B)
view3d, err := views.NewRender3D(img, truth, &views.Render3DOptions{Opacity: 1, Height: 360})
if err != nil {
	panic(err)
}
view3d`,
	// 5: a long training run, with its Stop button.
	`dir, _ := os.MkdirTemp("", "unetlab-widgets")
ds, _, err := phantom.Ensure(context.Background(), dir, "Heart", &phantom.Options{Shape: [3]int{16, 16, 16}, Training: 4})
if err != nil {
	panic(err)
}
cfg := models.Small(models.UNet)
cfg.Channels = []int{2, 4}
cfg.InputSize = [3]int{16, 16, 16}
topt := &train.Options{Model: cfg, Data: ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{16, 16, 16}}),
	Epochs: 1000, LR: 1e-3, Dir: filepath.Join(dir, "run"), Workers: 1}
training, err := views.Train(topt)
if err != nil {
	panic(err)
}
training`,
	// 6: resume the stopped run for one more epoch.
	`stopped, err := training.Wait(context.Background())
fmt.Println("stopped after", len(stopped.Epochs), "epochs:", err)
more := *topt
more.Epochs = len(stopped.Epochs) + 1
resumed, err := views.Resume(&more)
if err != nil {
	panic(err)
}
resumed`,
	// 7: binary buffers from JavaScript to Go: a custom message with an
	// ArrayBuffer, a state key set to a DataView; the Go callbacks write
	// what they got back into the widget's "reply".
	`bytesESM := \`export default {
	render({ model, el }) {
		const b = document.createElement("button");
		b.className = "unetlab-bytes-send";
		b.textContent = "send bytes";
		const out = document.createElement("span");
		out.className = "unetlab-bytes-reply";
		const show = () => { out.textContent = model.get("reply"); };
		model.on("change:reply", show);
		show();
		b.onclick = () => {
			model.send({ kind: "bytes" }, undefined, [new Uint8Array([0, 1, 2, 250, 255]).buffer]);
			model.set("data", new DataView(new Uint8Array([7, 8, 9]).buffer));
			model.save_changes();
		};
		el.append(b, out);
	},
};\`
bytesW, err := widget.NewAnyWidget("unetlab-bytes", bytesESM, "", map[string]any{"reply": "waiting", "data": []byte{}})
if err != nil {
	panic(err)
}
reply := ""
bytesW.OnCustom(func(content map[string]any, bufs [][]byte) {
	reply += fmt.Sprintf("custom %v %x; ", content["kind"], bufs)
	bytesW.Set("reply", reply)
})
bytesW.Observe("data", func(c widget.Change) {
	if b, ok := c.New.([]byte); ok && c.FromFrontEnd {
		reply += fmt.Sprintf("state %x; ", b)
		bytesW.Set("reply", reply)
	}
})
bytesW`,
	// 8: the state holds the bytes.
	`b, ok := bytesW.Get("data").([]byte)
fmt.Printf("data is []byte: %v, %x\\n", ok, b)`,
	// 9: a tiny grid (two folds of a tiny U-net on a 16^3 phantom) on the
	// local executor, followed by its progress widget.
	`gdir, _ := os.MkdirTemp("", "unetlab-grid")
groot := filepath.Join(gdir, "grid")
gcfg := models.Small(models.UNet)
gcfg.Channels = []int{2, 4}
gspec := &grid.Spec{Scale: "browser", Designs: []grid.Design{{Name: "U-net", Config: gcfg}}, Tasks: []string{"Heart"},
	Data: filepath.Join(gdir, "data"), Phantom: &phantom.Options{Shape: [3]int{16, 16, 16}, Training: 4},
	InputSize: 16, Folds: 2, Epochs: 200, LR: map[string]float64{"U-net": 1e-3}, Seed: 1}
gplan, err := grid.Build(context.Background(), gspec, filepath.Join(groot, grid.CacheDir))
if err != nil {
	panic(err)
}
folds := &grid.RunOptions{Stages: []grid.Stage{grid.StageFold}}
if _, err := grid.Run(context.Background(), groot, gplan, folds); err != nil {
	panic(err)
}
gp, err := views.Grid(groot, &views.GridOptions{Every: 300 * time.Millisecond})
if err != nil {
	panic(err)
}
gp`,
	// 10: after Stop, the grid runs again: its jobs resume.
	`<-gp.Done()
for _, j := range gp.Status().Jobs {
	n := 0 // a cancelled job is pending again; its record holds its epochs
	if r, err := grid.ReadRun(groot, j.Job.Key); err == nil {
		n = len(r.Epochs)
	}
	fmt.Printf("stopped: %s %s %d/%d\\n", j.Job.Name, j.State, n, j.Of)
}
if _, err := grid.Run(context.Background(), groot, gplan, folds); err != nil {
	panic(err)
}
gp2, err := views.Grid(groot, &views.GridOptions{Every: 300 * time.Millisecond})
if err != nil {
	panic(err)
}
gp2`,
	// 11: each fold's training record.
	`for _, j := range gplan.Jobs {
	r, err := grid.ReadRun(groot, j.Key)
	if err != nil {
		panic(err)
	}
	fmt.Printf("record: %s %d epochs, %d resumes\\n", j.Name, len(r.Epochs), r.Resumes)
}`,
];
function notebookJSON(cells) {
	return JSON.stringify({
		cells: cells.map((s) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: s })),
		metadata: { kernelspec: { display_name: 'Go (unetlab)', language: 'go', name: 'unetlab' } },
		nbformat: 4,
		nbformat_minor: 5,
	});
}

// startServer starts `jupyter lab` or `jupyter notebook` on a free loopback
// port with a token, over a temporary copy of the notebooks and a temporary
// JUPYTER_DATA_DIR holding the built kernel.
async function startServer(app) {
	const tmp = mkdtempSync(join(tmpdir(), `unetlab-${app}-`));
	const work = join(tmp, 'notebooks');
	cpSync(notebooksDir, work, { recursive: true, filter: (p) => !p.includes('.ipynb_checkpoints') });
	// The shipped notebooks carry their rendered outputs (make
	// notebooks-render). Run All starts from none, as `make notebooks`
	// does: the checks then see this run's outputs only, and a prompt
	// with a number means a cell this run ran.
	for (const f of readdirSync(work).filter((f) => f.endsWith('.ipynb'))) {
		const nb = JSON.parse(readFileSync(join(work, f), 'utf8'));
		for (const c of nb.cells) {
			if (c.cell_type === 'code') Object.assign(c, { outputs: [], execution_count: null });
		}
		writeFileSync(join(work, f), `${JSON.stringify(nb, null, 1)}\n`);
	}
	writeFileSync(join(work, 'interact.ipynb'), notebookJSON(interactCells));
	writeFileSync(join(work, 'widgets.ipynb'), notebookJSON(widgetCells));
	mkdirSync(join(tmp, 'tmp'));
	const settings = join(tmp, 'settings');
	// No windowing: every cell is in the DOM, so the checks see them all.
	// No news or update checks: the machine is offline.
	const put = (ext, file, obj) => {
		mkdirSync(join(settings, ext), { recursive: true });
		writeFileSync(join(settings, ext, file), JSON.stringify(obj));
	};
	put('@jupyterlab/notebook-extension', 'tracker.jupyterlab-settings', { windowingMode: 'none' });
	put('@jupyterlab/apputils-extension', 'notification.jupyterlab-settings', { checkForUpdates: false, fetchNews: 'false' });
	const jenv = {
		...env,
		PATH: `${jupyterDir}:${env.PATH}`,
		JUPYTER_DATA_DIR: join(tmp, 'data'),
		JUPYTER_CONFIG_DIR: join(tmp, 'config'),
		JUPYTER_RUNTIME_DIR: join(tmp, 'runtime'),
		JUPYTERLAB_SETTINGS_DIR: settings,
		JUPYTERLAB_WORKSPACES_DIR: join(tmp, 'workspaces'),
		UNETLAB_RUNS: join(tmp, 'runs'),
		// What cells make with os.MkdirTemp goes when the server's folder does.
		TMPDIR: join(tmp, 'tmp'),
		UNETLAB_SCALE: env.UNETLAB_SCALE || 'smoke',
		UNETLAB_DATA: env.UNETLAB_DATA || join(root, 'data'),
	};
	execFileSync(bin, ['install', '--user'], { env: jenv, stdio: ['ignore', 'ignore', 'inherit'] });
	const port = await freePort();
	const token = randomBytes(16).toString('hex');
	const args = [app, '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0',
		`--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${work}`, '--ServerApp.disable_check_xsrf=False'];
	if (process.getuid && process.getuid() === 0) args.push('--allow-root');
	const proc = spawn(join(jupyterDir, 'jupyter'), args, { env: jenv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
	let out = '';
	proc.stdout.on('data', (d) => (out += d));
	proc.stderr.on('data', (d) => (out += d));
	const base = `http://127.0.0.1:${port}/`;
	for (let i = 0; i < 120; i++) {
		try {
			const r = await fetch(`${base}api/status?token=${token}`);
			if (r.ok) break;
		} catch {}
		if (proc.exitCode !== null) throw new Error(`jupyter ${app} exited ${proc.exitCode}:\n${out}`);
		await sleep(500);
	}
	log(`jupyter ${app} on ${base}`);
	return {
		app, base, token, tmp, work, output: () => out,
		async stop() {
			try { process.kill(-proc.pid, 'SIGTERM'); } catch {}
			for (let i = 0; i < 20 && proc.exitCode === null; i++) await sleep(250);
			try { process.kill(-proc.pid, 'SIGKILL'); } catch {}
			rmSync(tmp, { recursive: true, force: true });
		},
	};
}

// A page with console errors collected and compared with the allowlist.
const consoleErrors = {};
async function newPage(browser, label) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
	const page = await ctx.newPage();
	currentPage = page;
	consoleErrors[label] ||= [];
	const record = (text) => {
		const hit = allow.find((a) => new RegExp(a.pattern).test(text));
		if (!hit) consoleErrors[label].push(text);
	};
	page.on('console', (m) => { if (m.type() === 'error') record(`${label}: console: ${m.text()}`); });
	page.on('pageerror', (e) => record(`${label}: page error: ${e.message} ${(e.stack || '').split('\n').slice(1, 3).join(' ')}`));
	return page;
}

// shutdownKernels ends every session and its kernel (REST API).
async function shutdownKernels(srv) {
	const auth = { headers: { Authorization: `token ${srv.token}` } };
	const ss = await (await fetch(`${srv.base}api/sessions`, auth)).json();
	for (const x of ss) await fetch(`${srv.base}api/sessions/${x.id}`, { method: 'DELETE', ...auth });
}

function nbURL(srv, name) {
	return srv.app === 'lab' ? `${srv.base}lab/tree/${name}?reset&token=${srv.token}` : `${srv.base}notebooks/${name}?token=${srv.token}`;
}

// open opens a notebook and waits until its kernel is idle.
async function open(page, srv, name) {
	await page.goto(nbURL(srv, name));
	await page.waitForSelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell', { timeout: 60000 });
	// JupyterLab may ask which kernel to start: the notebook's own, Go (unetlab).
	const dialog = page.locator('.jp-Dialog .jp-mod-accept');
	await dialog.waitFor({ timeout: 3000 }).then(() => dialog.click(), () => {});
	await waitIdle(page, 60000);
}

// kernelStatus reads the kernel status of the notebook's toolbar indicator.
async function waitIdle(page, timeout) {
	await page.waitForFunction(() => {
		const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
		const st = s && s.getAttribute('data-status');
		return st === 'idle';
	}, null, { timeout, polling: 250 });
}

async function menu(page, top, item) {
	await page.locator(`.lm-MenuBar-itemLabel:text-is("${top}")`).first().click();
	await page.locator(`.lm-Menu-itemLabel:text-is("${item}")`).first().click();
}

const cells = (page) => page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
const prompt = (page, i) => cells(page).nth(i).locator('.jp-InputPrompt').first().innerText();

// runCell puts the cursor in code cell i and runs it with Ctrl+Enter; it
// returns the cell's prompt from before, once the prompt has changed (the
// cell is queued or running), pressing again if the first press was lost.
// runCell runs cell i (Ctrl+Enter), pressing again only when its prompt did
// not change at all. A change is seen by a MutationObserver, not by comparing
// the text: a fast cell goes [2] -> [*] -> [2] after a restart between two
// polls, and a second press would run it twice.
async function runCell(page, i) {
	const old = await prompt(page, i);
	for (let tries = 0; tries < 5; tries++) {
		await page.evaluate((idx) => {
			const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[idx];
			const p = c.querySelector('.jp-InputPrompt');
			window.__unetlabPromptChanged = false;
			const obs = new MutationObserver(() => {
				window.__unetlabPromptChanged = true;
				obs.disconnect();
			});
			obs.observe(p, { childList: true, subtree: true, characterData: true });
		}, i);
		await cells(page).nth(i).locator('.cm-content').click();
		await page.keyboard.press('Control+Enter');
		try {
			await page.waitForFunction(() => window.__unetlabPromptChanged, null, { timeout: 2000, polling: 50 });
			return old;
		} catch {}
	}
	throw new Error(`cell ${i} did not start`);
}
// waitDone waits until cell i shows an execution count.
async function waitDone(page, i, timeout = 60000) {
	await page.waitForFunction(([idx]) => {
		const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[idx];
		const p = c && c.querySelector('.jp-InputPrompt');
		return p && /\[\d+\]/.test(p.textContent);
	}, [i], { timeout, polling: 100 });
}
// saved saves the notebook and returns it as the server has it (nbformat JSON).
async function saved(page, srv, name) {
	const before = await (await fetch(`${srv.base}api/contents/${name}?content=0&token=${srv.token}`)).json();
	await page.keyboard.press('Control+s');
	for (let i = 0; i < 40; i++) {
		const m = await (await fetch(`${srv.base}api/contents/${name}?content=0&token=${srv.token}`)).json();
		if (m.last_modified !== before.last_modified) break;
		await sleep(250);
	}
	const r = await fetch(`${srv.base}api/contents/${name}?token=${srv.token}`);
	return (await r.json()).content;
}
const errorsOf = (nb) => nb.cells.flatMap((c, i) => (c.outputs || []).filter((o) => o.output_type === 'error').map((o) => `cell ${i}: ${o.ename}: ${o.evalue}`));
const outputText = (page, i) => cells(page).nth(i).locator('.jp-OutputArea').first().innerText();

async function shot(page, name) {
	await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

async function test(name, fn) {
	if (only && !only.test(name)) return;
	const start = Date.now();
	try {
		await fn();
		results.push({ name, ok: true });
		log(`PASS ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
	} catch (e) {
		results.push({ name, ok: false, err: e });
		if (currentPage) await shot(currentPage, `FAIL-${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`).catch(() => {});
		log(`FAIL ${name} (${((Date.now() - start) / 1000).toFixed(1)} s): ${e.stack || e}`);
	}
}

function assert(cond, msg) {
	if (!cond) throw new Error(msg);
}

// runAll opens a notebook, runs every cell, and checks what a person sees:
// no error output, every image loaded at its natural size and inside the
// output area, a training progress display updated in place.
async function runAll(page, srv, name) {
	await open(page, srv, name);
	const budget = Number(env.NOTEBOOK_BUDGET_S || 300) * 1000;
	// Run All, again if no cell was queued (a click before the kernel connected is lost).
	for (let tries = 0; ; tries++) {
		await menu(page, 'Run', 'Run All Cells');
		try {
			await page.waitForFunction(() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]
				.some((p) => /\[([*]|\d+)\]/.test(p.textContent)), null, { timeout: 5000, polling: 100 });
			break;
		} catch (e) {
			if (tries === 3) throw new Error(`${name}: Run All started no cell`);
		}
	}
	const start = Date.now();
	// Watch the cells that train: their outputs must stay few while their text changes.
	const progress = { maxOutputs: 0, texts: new Set(), appended: '' };
	let done = false;
	let quiet = Date.now();
	while (!done) {
		assert(Date.now() - start < budget, `${name}: Run All did not finish in ${budget / 1000} s`);
		await sleep(500);
		const st = await page.evaluate(() => {
			const cs = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell')];
			const pending = cs.filter((c) => /\[[*]\]/.test(c.querySelector('.jp-InputPrompt')?.textContent || '')).length;
			const unrun = cs.filter((c) => !/\[\d+\]/.test(c.querySelector('.jp-InputPrompt')?.textContent || '')).length;
			const train = cs.filter((c) => /train\.Fit\(|Grid\(|CrossValidate\(/i.test(c.querySelector('.jp-InputArea')?.textContent || ''));
			return {
				pending, unrun,
				train: train.map((c) => { const t = c.querySelector('.jp-OutputArea')?.innerText || ''; return { n: c.querySelectorAll('.jp-OutputArea-child').length, lines: t.split('\n').filter((l) => l.trim()).length, text: t.slice(-400) }; }),
			};
		});
		for (const t of st.train) {
			progress.maxOutputs = Math.max(progress.maxOutputs, t.n);
			// A progress display is a bar and a line; printing per epoch adds a line each time.
			if (t.lines > 3 * t.n + 5) progress.appended = `${t.lines} lines in ${t.n} outputs, ending:\n${t.text}`;
			if (t.text) progress.texts.add(t.text);
		}
		// Done when every cell has run, or (after an error stopped Run All)
		// when nothing has been queued for 3 s.
		if (st.pending > 0) quiet = Date.now();
		done = st.pending === 0 && (st.unrun === 0 || Date.now() - quiet > 3000);
	}
	await waitIdle(page, 30000);
	const secs = ((Date.now() - start) / 1000).toFixed(0);
	const report = await page.evaluate(async () => {
		const out = { unrun: 0, images: [], wide: [] };
		const cs = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell')];
		cs.forEach((c, i) => {
			if (!/\[\d+\]/.test(c.querySelector('.jp-InputPrompt')?.textContent || '')) out.unrun++;
		});
		const imgs = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')];
		await Promise.all(imgs.map((im) => (im.complete ? null : new Promise((r) => { im.onload = im.onerror = r; }))));
		for (const im of imgs) {
			const area = im.closest('.jp-OutputArea-output');
			out.images.push({ natural: im.naturalWidth, shown: im.getBoundingClientRect().width, area: area.clientWidth });
		}
		for (const o of document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')) {
			if (o.scrollWidth > o.clientWidth + 1) out.wide.push(`${o.getAttribute('data-mime-type') || o.className}: ${o.scrollWidth} px in ${o.clientWidth}`);
		}
		return out;
	});
	// Screenshots: the top, then each cell with outputs.
	await shot(page, `${srv.app}-${name}-00-top`);
	const n = await cells(page).count();
	for (let i = 0, k = 1; i < n; i++) {
		const c = cells(page).nth(i);
		if ((await c.locator('.jp-OutputArea-child').count()) === 0) continue;
		const o = c.locator('.jp-Cell-outputWrapper').first();
		await o.scrollIntoViewIfNeeded();
		await o.screenshot({ path: join(artifacts, `${srv.app}-${name}-${String(k++).padStart(2, '0')}-cell${i}.png`) });
	}
	log(`${srv.app} ${name}: Run All ${secs} s, ${report.images.length} images, training outputs max ${progress.maxOutputs}, ${progress.texts.size} progress states`);
	const errs = errorsOf(await saved(page, srv, name));
	assert(errs.length === 0, `${name}: error outputs:\n${errs.join('\n')}`);
	assert(report.unrun === 0, `${name}: ${report.unrun} code cells did not run`);
	for (const im of report.images) assert(im.natural > 0, `${name}: an image did not load (naturalWidth 0)`);
	for (const im of report.images) assert(im.shown <= im.area + 1, `${name}: an image ${im.shown} px wide in a ${im.area} px output area`);
	assert(report.wide.length === 0, `${name}: outputs wider than the notebook:\n${report.wide.join('\n')}`);
	assert(!progress.appended, `${name}: training progress added lines instead of updating in place: ${progress.appended}`);
}

// The interaction tests, on interact.ipynb (cells: see interactCells).
async function interactions(page, srv) {
	const A = srv.app;
	await test(`${A}: open interact.ipynb, kernel idle`, async () => {
		await open(page, srv, 'interact.ipynb');
		await runCell(page, 0);
		await waitDone(page, 0);
		await runCell(page, 1);
		await waitDone(page, 1);
		assert((await outputText(page, 1)).includes('ready'), 'no "ready" output');
	});
	await test(`${A}: Tab completion after fmt.Pri`, async () => {
		const last = interactCells.length - 1;
		await cells(page).nth(last).locator('.cm-content').click();
		await page.keyboard.type('fmt.Pri');
		await page.keyboard.press('Tab');
		const comp = page.locator('.jp-Completer');
		await comp.waitFor({ state: 'visible', timeout: 10000 });
		const items = await comp.locator('.jp-Completer-item').allInnerTexts();
		await shot(page, `${A}-completion`);
		assert(items.some((t) => t.includes('Println')) && items.some((t) => t.includes('Printf')), `completions ${JSON.stringify(items)}`);
		await page.keyboard.press('Escape');
	});
	await test(`${A}: contextual help for fmt.Println`, async () => {
		const last = interactCells.length - 1;
		const ed = cells(page).nth(last).locator('.cm-content');
		await ed.click();
		await page.keyboard.press('Control+a');
		await page.keyboard.type('fmt.Println(');
		await page.keyboard.press('Shift+Tab');
		const tip = page.locator('.jp-Tooltip');
		await tip.waitFor({ state: 'visible', timeout: 10000 });
		const text = await tip.innerText();
		await shot(page, `${A}-tooltip`);
		assert(/Println/.test(text) && /func|format/i.test(text), `tooltip: ${text.slice(0, 300)}`);
		await page.keyboard.press('Escape');
		if (A === 'lab') {
			// The Contextual Help panel (the inspector) follows the cursor.
			await menu(page, 'Help', 'Show Contextual Help');
			await ed.click();
			await page.keyboard.press('End');
			await page.keyboard.press('ArrowLeft');
			const insp = page.locator('.jp-Inspector-content');
			await page.waitForFunction(() => /Println/.test(document.querySelector('.jp-Inspector-content')?.textContent || ''), null, { timeout: 10000 });
			await shot(page, `${A}-inspector`);
			const t = await insp.innerText();
			assert(/Println/.test(t), `inspector: ${t.slice(0, 300)}`);
			await page.locator('.lm-TabBar-tab:has-text("Contextual Help") .lm-TabBar-tabCloseIcon').first().click().catch(() => {});
		}
		await ed.click();
		await page.keyboard.press('Control+a');
		await page.keyboard.press('Delete');
	});
	await test(`${A}: interrupt time.Sleep(time.Minute) within 3 s, then the next cell runs`, async () => {
		await runCell(page, 2);
		await page.waitForFunction(() => true);
		await sleep(1500);
		const start = Date.now();
		await menu(page, 'Kernel', 'Interrupt Kernel');
		await waitDone(page, 2, 10000);
		const took = (Date.now() - start) / 1000;
		assert(took < 3, `interrupt took ${took.toFixed(1)} s`);
		await runCell(page, 3);
		await waitDone(page, 3, 20000);
		assert((await outputText(page, 3)).includes('after interrupt'), 'the cell after the interrupt printed nothing');
		log(`${A}: interrupt took ${took.toFixed(2)} s`);
	});
	await test(`${A}: fmt.Scanln prompt answered`, async () => {
		await runCell(page, 4);
		const input = cells(page).nth(4).locator('.jp-Stdin-input');
		await input.waitFor({ state: 'visible', timeout: 20000 });
		await shot(page, `${A}-stdin`);
		await input.fill('Ada');
		await input.press('Enter');
		await waitDone(page, 4, 20000);
		const t = await outputText(page, 4);
		assert(t.includes('hello, Ada'), `output: ${t}`);
	});
	await test(`${A}: a panic is shown and the kernel survives`, async () => {
		await runCell(page, 5);
		await waitDone(page, 5, 20000);
		await shot(page, `${A}-panic`);
		const shown = await outputText(page, 5);
		assert(shown.includes('boom from a cell'), `cell output: ${shown.slice(0, 300)}`);
		const errs = errorsOf(await saved(page, srv, 'interact.ipynb'));
		assert(errs.some((e) => e.startsWith('cell 5: panic') && e.includes('boom from a cell')), `error outputs: ${JSON.stringify(errs)}`);
		await runCell(page, 6);
		await waitDone(page, 6, 20000);
		assert((await outputText(page, 6)).includes('survived 42'), 'the next cell did not run');
	});
	await test(`${A}: restart the kernel, then run`, async () => {
		const count = async (i) => Number((/\[(\d+)\]/.exec(await prompt(page, i)) || [])[1]);
		const before = await count(6); // the last cell run before the restart
		await menu(page, 'Kernel', 'Restart Kernel…');
		const accept = page.locator('.jp-Dialog .jp-mod-accept');
		await accept.waitFor({ timeout: 10000 });
		await accept.click();
		// The indicator leaves idle while the kernel restarts (a fast restart
		// may be missed), then comes back to idle.
		await page.waitForFunction(() => {
			const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
			return s && s.getAttribute('data-status') !== 'idle';
		}, null, { timeout: 5000, polling: 50 }).catch(() => {});
		await waitIdle(page, 30000);
		await sleep(500);
		await waitIdle(page, 30000);
		await runCell(page, 0);
		await waitDone(page, 0, 30000);
		await waitIdle(page, 30000);
		await runCell(page, 1);
		await waitDone(page, 1, 30000);
		await waitIdle(page, 30000);
		const first = await count(0), second = await count(1);
		// A restarted kernel counts from 1 again.
		assert(first === 1 && second === 2, `prompts after restart: [${first}] [${second}], before it [${before}]`);
		assert((await outputText(page, 1)).includes('ready'), 'no output after restart');
	});
}

// The widget tests, on widgets.ipynb (cells: see widgetCells).
const out = (page, i) => cells(page).nth(i).locator('.jp-OutputArea').first();
// imageHashes returns the SHA-256 (hex) of the bytes each widget image of
// cell i shows (its blob URL fetched in the page).
async function imageHashes(page, i) {
	return page.evaluate(async (idx) => {
		const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[idx];
		const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
		const out = [];
		for (const im of c.querySelectorAll('.widget-image')) {
			const buf = await (await fetch(im.src)).arrayBuffer();
			out.push(hex(await crypto.subtle.digest('SHA-256', buf)));
		}
		return out;
	}, i);
}
// untilChanged waits until cell i's images differ from before and then
// stay the same for 1 s (the kernel has drawn the last move).
async function settledImages(page, i, before, timeout = 30000) {
	const start = Date.now();
	let last = null, since = Date.now();
	for (;;) {
		const h = JSON.stringify(await imageHashes(page, i));
		if (h !== last) { last = h; since = Date.now(); }
		if (h !== JSON.stringify(before) && Date.now() - since > 1000) return JSON.parse(h);
		if (Date.now() - start > timeout) throw new Error(`cell ${i}: the images did not change in ${timeout / 1000} s`);
		await sleep(200);
	}
}
// stableImages returns cell i's image hashes once they have stayed the
// same for 1 s (a slicer just shown may still be drawing).
async function stableImages(page, i, timeout = 30000) {
	const start = Date.now();
	let last = null, since = Date.now();
	for (;;) {
		const h = JSON.stringify(await imageHashes(page, i));
		if (h !== last) { last = h; since = Date.now(); }
		if (Date.now() - since > 1000) return JSON.parse(h);
		if (Date.now() - start > timeout) throw new Error(`cell ${i}: the images did not settle in ${timeout / 1000} s`);
		await sleep(200);
	}
}
// moveSlider clicks the track of the n-th slider of cell i at fraction f
// of its length (noUiSlider's tap), as a person moving it does.
async function moveSlider(page, i, which, f) {
	const track = cells(page).nth(i).locator('.widget-slider .noUi-target').nth(which);
	await track.scrollIntoViewIfNeeded();
	const b = await track.boundingBox();
	await page.mouse.click(b.x + f * b.width, b.y + b.height / 2);
}
async function widgets(page, srv) {
	const A = srv.app;
	const ran = new Set();
	const run = async (i, timeout = 60000) => { await runCell(page, i); await waitDone(page, i, timeout); ran.add(i); };
	// need opens widgets.ipynb and runs its imports (once), then the cells
	// given that have not run: each test starts with it, so that one
	// picked alone by ONLY has what it uses.
	let opened = false;
	const need = async (...idx) => {
		if (!opened) {
			await open(page, srv, 'widgets.ipynb');
			opened = true;
		}
		for (const i of [0, ...idx]) if (!ran.has(i)) await run(i, 120000);
	};
	await test(`${A}: widgets: the slicer shows, its slider scrolls all panels to the library's PNG of the slice`, async () => {
		await need();
		await run(1);
		await page.waitForFunction(() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-image').length >= 3, null, { timeout: 30000 });
		const before = await imageHashes(page, 1);
		await moveSlider(page, 1, 0, 0.8);
		const after = await settledImages(page, 1, before);
		await waitIdle(page, 30000);
		const shown = Number(await cells(page).nth(1).locator('.widget-readout').first().innerText());
		await run(2);
		const t = await outputText(page, 2);
		const m = /index=(\d+) image=(\w+) truth=(\w+) pred=(\w+)/.exec(t);
		assert(m, `cell 2 printed ${t}`);
		await shot(page, `${A}-widgets-slicer`);
		assert(Number(m[1]) === shown, `the kernel's index ${m[1]}, the slider shows ${shown}`);
		assert(after[0] === m[2] && after[1] === m[3] && after[2] === m[4],
			`browser images ${after.map((h) => h.slice(0, 12))} vs the library's ${[m[2], m[3], m[4]].map((h) => h.slice(0, 12))}`);
		assert(before[1] !== after[1], 'the truth panel did not change with the slice');
	});
	await test(`${A}: widgets: the overlay opacity changes the label panels only`, async () => {
		await need(1);
		await page.waitForFunction(() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-image').length >= 3, null, { timeout: 30000 });
		const before = await stableImages(page, 1);
		await moveSlider(page, 1, 1, 0.9);
		const after = await settledImages(page, 1, before);
		assert(after[0] === before[0], 'the image panel (no labels) changed with the opacity');
		assert(after[1] !== before[1] && after[2] !== before[2], 'the truth and prediction panels did not change');
		const dice = await cells(page).nth(1).locator('.widget-html').last().innerText();
		assert(/Dice on this slice: class 1 \d\.\d{3}/.test(dice), `Dice line: ${dice}`);
	});
	await test(`${A}: widgets: a Go callback's output lands in its Output widget; Play drives a linked slider`, async () => {
		await need();
		await run(3);
		const button = cells(page).nth(3).locator('button.widget-button:has-text("Say hello")');
		await button.waitFor({ timeout: 30000 });
		await button.click();
		await button.click();
		const o = cells(page).nth(3).locator('.widget-output');
		await page.waitForFunction(() => /hello 2 from Go/.test(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[3]?.querySelector('.widget-output')?.innerText || ''), null, { timeout: 20000 });
		const text = await o.innerText();
		assert(/hello 1 from Go\s+hello 2 from Go/.test(text), `Output widget: ${text}`);
		await cells(page).nth(3).locator('.widget-play button').first().click();
		await page.waitForFunction(() => {
			const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[3];
			const r = [...c.querySelectorAll('.widget-readout')].map((e) => Number(e.innerText));
			return r.some((v) => v >= 3);
		}, null, { timeout: 20000 });
		await shot(page, `${A}-widgets-controls`);
	});
	await test(`${A}: widgets: the 3D view (NiiVue, software WebGL) shows the label colour`, async () => {
		await need(1);
		await run(4);
		const m = /label colour (\d+) (\d+) (\d+)/.exec(await outputText(page, 4));
		assert(m, 'no label colour printed');
		const want = [Number(m[1]), Number(m[2]), Number(m[3])];
		const box = cells(page).nth(4).locator('.unetlab-render3d[data-ready="1"]');
		await box.waitFor({ timeout: 60000 });
		await sleep(1500);
		await box.scrollIntoViewIfNeeded();
		const png = await box.screenshot({ path: join(artifacts, `${A}-widgets-3d.png`) });
		const count = await page.evaluate(async ([b64, want]) => {
			const im = new Image();
			im.src = `data:image/png;base64,${b64}`;
			await im.decode();
			const cv = document.createElement('canvas');
			cv.width = im.width; cv.height = im.height;
			const g = cv.getContext('2d');
			g.drawImage(im, 0, 0);
			const d = g.getImageData(0, 0, cv.width, cv.height).data;
			let n = 0;
			for (let k = 0; k < d.length; k += 4) {
				if (Math.abs(d[k] - want[0]) < 30 && Math.abs(d[k + 1] - want[1]) < 30 && Math.abs(d[k + 2] - want[2]) < 30) n++;
			}
			return n;
		}, [png.toString('base64'), want]);
		log(`${A}: 3D view: ${count} pixels of the label colour ${want}`);
		assert(count > 200, `${count} pixels near the label colour ${want}`);
	});
	await test(`${A}: widgets: the Stop button ends a training run, which then resumes`, async () => {
		await need();
		await run(5, 120000);
		const status = () => cells(page).nth(5).locator('.widget-html').last().innerText();
		await page.waitForFunction(() => /epoch \d+ of 1000/.test(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[5]?.querySelector('.widget-html')?.innerText || ''), null, { timeout: 120000 });
		await cells(page).nth(5).locator('button.widget-button:has-text("Stop")').click();
		await page.waitForFunction(() => /stopped/.test(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[5]?.querySelector('.widget-html')?.innerText || ''), null, { timeout: 60000 });
		const st = await status();
		assert(/context canceled/.test(st), `status after Stop: ${st}`);
		await run(6, 120000);
		await page.waitForFunction(() => /done: completed/.test(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[6]?.querySelector('.widget-html')?.innerText || ''), null, { timeout: 120000 });
		const t = await outputText(page, 6);
		assert(/stopped after \d+ epochs: .*context canceled/.test(t), `cell 6 printed: ${t}`);
		await shot(page, `${A}-widgets-training`);
		const errs = errorsOf(await saved(page, srv, 'widgets.ipynb'));
		assert(errs.length === 0, `error outputs:\n${errs.join('\n')}`);
	});
	await test(`${A}: widgets: binary buffers from JavaScript reach Go callbacks and the widget's state`, async () => {
		await need();
		await run(7);
		const send = cells(page).nth(7).locator('button.unetlab-bytes-send');
		await send.waitFor({ timeout: 30000 });
		await send.click();
		await page.waitForFunction(() => {
			const t = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[7]?.querySelector('.unetlab-bytes-reply')?.textContent || '';
			return /custom/.test(t) && /state/.test(t);
		}, null, { timeout: 20000 });
		const reply = await cells(page).nth(7).locator('.unetlab-bytes-reply').innerText();
		assert(reply.includes('custom bytes [000102faff]') && reply.includes('state 070809'), `the Go callbacks replied: ${reply}`);
		await waitIdle(page, 30000);
		await run(8);
		const t = await outputText(page, 8);
		assert(t.includes('data is []byte: true, 070809'), `cell 8 printed: ${t}`);
		await shot(page, `${A}-widgets-bytes`);
	});
	await test(`${A}: widgets: the grid's progress updates in place; Stop ends its jobs, which then resume`, async () => {
		await need();
		await run(9, 120000);
		const gridState = (i) => page.evaluate((idx) => {
			const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[idx];
			return { n: c.querySelectorAll('.jp-OutputArea-child').length, text: c.querySelector('.widget-html')?.innerText || '' };
		}, i);
		const epochs = (text) => [...text.matchAll(/(\d+)\/200/g)].map((m) => Number(m[1]));
		// Two different states of running jobs in the one output.
		const seen = new Set();
		for (const start = Date.now(); seen.size < 2;) {
			const st = await gridState(9);
			assert(st.n === 1, `${st.n} outputs in the grid's cell, want 1 updated in place`);
			assert(!/2 done/.test(st.text), `the grid finished before Stop: ${st.text}`);
			assert(Date.now() - start < 120000, `no progress of running jobs in 120 s: ${st.text}`);
			if (/running/.test(st.text) && epochs(st.text).some((e) => e > 0)) seen.add(epochs(st.text).join(','));
			await sleep(100);
		}
		await cells(page).nth(9).locator('button.widget-button:has-text("Stop")').click();
		await page.waitForFunction(() => {
			const c = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[9];
			return /stopped/.test(c?.querySelector('.widget-html')?.innerText || '') && c.querySelector('button.widget-button:disabled');
		}, null, { timeout: 60000 });
		const stopped = await gridState(9);
		await shot(page, `${A}-widgets-grid-stopped`);
		assert(stopped.n === 1 && !/running|queued/.test(stopped.text) && /pending/.test(stopped.text), `after Stop: ${stopped.text}`);
		assert(epochs(stopped.text).some((e) => e > 0), `after Stop the table shows no epochs trained: ${stopped.text}`);
		await run(10, 120000);
		const before = {};
		for (const m of (await outputText(page, 10)).matchAll(/stopped: (.+?) (\w+) (\d+)\/200/g)) before[m[1]] = Number(m[3]);
		assert(Object.keys(before).length === 2, `cell 10 printed: ${await outputText(page, 10)}`);
		await page.waitForFunction(() => /2 jobs: 2 done/.test(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[10]?.querySelector('.widget-html')?.innerText || ''), null, { timeout: 240000, polling: 250 });
		const after = await gridState(10);
		assert(after.n === 2, `${after.n} outputs in cell 10, want its printout and the widget`);
		await shot(page, `${A}-widgets-grid-resumed`);
		await run(11);
		const records = {};
		for (const m of (await outputText(page, 11)).matchAll(/record: (.+?) (\d+) epochs, (\d+) resumes/g)) records[m[1]] = { epochs: Number(m[2]), resumes: Number(m[3]) };
		log(`${A}: grid: stopped at ${JSON.stringify(before)}, then ${JSON.stringify(records)}`);
		const started = Object.keys(before).filter((k) => before[k] > 0);
		assert(started.length > 0, `no job had trained before Stop: ${JSON.stringify(before)}`);
		for (const name of Object.keys(before)) {
			const r = records[name];
			assert(r && r.epochs === 200, `${name}: record ${JSON.stringify(r)}, want 200 epochs`);
			if (before[name] > 0) assert(r.resumes >= 1, `${name} stopped at epoch ${before[name]} but was not resumed: ${JSON.stringify(r)}`);
		}
		const errs = errorsOf(await saved(page, srv, 'widgets.ipynb'));
		assert(errs.length === 0, `error outputs:\n${errs.join('\n')}`);
	});
}

let browser;
const servers = [];
try {
	browser = await chromium.launch({
		executablePath: chromiumPath,
		headless: true,
		// WebGL (NiiVue's 3D view) from SwiftShader, in software.
		args: ['--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
			'--disable-background-networking', '--disable-component-update',
			'--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
	});
	log(`Chromium ${browser.version()} (${chromiumPath})`);
	for (const [app, notebooks] of [['lab', labNotebooks], ['notebook', nb7Notebooks]]) {
		const srv = await startServer(app);
		servers.push(srv);
		// A fresh page per notebook; its kernel is shut down after it.
		const page = await newPage(browser, app);
		await interactions(page, srv);
		await page.context().close();
		await shutdownKernels(srv);
		const wpage = await newPage(browser, app);
		await widgets(wpage, srv);
		await wpage.context().close();
		await shutdownKernels(srv);
		for (const nb of notebooks) {
			const page = await newPage(browser, app);
			await test(`${app}: Run All ${nb}`, () => runAll(page, srv, nb));
			await page.context().close();
			await shutdownKernels(srv);
		}
		await test(`${app}: no console errors outside browser/console-allowlist.json`, async () => {
			assert(consoleErrors[app].length === 0, consoleErrors[app].join('\n'));
		});
	}
} catch (e) {
	results.push({ name: 'set-up', ok: false, err: e });
	log(`FAIL set-up: ${e.stack || e}`);
} finally {
	if (browser) await browser.close();
	for (const s of servers) await s.stop();
}
const failed = results.filter((r) => !r.ok);
for (const r of failed) console.log(`FAIL ${r.name}: ${String(r.err && r.err.message).split('\n')[0]}`);
console.log(`browser tests took ${((Date.now() - t0) / 1000).toFixed(0)} s; screenshots in ${artifacts}`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
