import t from 'tap';
import { fixture, root, waitFor } from '../helpers/processes.js';
import { startProxy } from '../helpers/proxy.js';
import { startSidecar } from '../helpers/sidecar.js';
import { launchBrowser, noBrowser, screenshot, watchPage } from '../helpers/browser.js';

// The dashboard in a real browser (Debian's chromium through playwright-core): a real proxy with a
// token, real sidecars over the example servers; login, live services, a tool call, the calls view.
const TOKEN = 'dash-token-s3cret';
const skip = noBrowser();
if (skip) t.plan(0, skip);
else
  t.test('log in, see services live, call a tool, filter the calls', async (t) => {
    const proxy = await startProxy(t, { token: TOKEN });
    await startSidecar(t, { name: 'fs', proxy: proxy.base, token: TOKEN, command: ['python3', `${root}examples/fs_server.py`, '--root', `${root}examples/texts`] });
    const browser = await launchBrowser(t);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);

    await page.goto(`${proxy.base}/`);
    await page.locator('#token').fill(TOKEN);
    await screenshot(t, page, 'dashboard-login');
    await page.locator('button[type=submit]').click();
    await page.locator('#svc-table tbody tr[data-service="fs"]').waitFor();
    t.ok(
      await page
        .locator('#live.live-on')
        .waitFor()
        .then(() => true),
      'the event stream is live',
    );
    const [cookie] = await context.cookies();
    t.match(cookie, { name: 'mesh_dashboard', httpOnly: true, sameSite: 'Strict' }, 'the login cookie is HttpOnly and SameSite=Strict');
    t.not(cookie?.value, TOKEN, 'the cookie is not the token');
    t.notOk(page.url().includes(TOKEN), 'the token is not in the URL');

    // A service that registers afterwards appears without a reload.
    await startSidecar(t, { name: 'echo', proxy: proxy.base, token: TOKEN, command: ['python3', fixture('echo_server.py')] });
    await page.locator('#svc-table tbody tr[data-service="echo"]').waitFor({ timeout: 15_000 });
    t.pass('echo joined and is listed without a reload');
    await screenshot(t, page, 'dashboard-services');

    // The catalog: search, pick read_text, call it with JSON arguments, see the file's text.
    await page.locator('#tabs a[data-view=tools]').click();
    await page.locator('#tool-search').fill('read_text');
    await page.locator('#tool-list a[href="#tools/fs/read_text"]').click();
    await page.locator('#call-args').fill('{"path": "chapter1.txt"}');
    await page.locator('#call-run').click();
    const text = await page.locator('#call-text').textContent();
    t.ok(text && text.length > 20, 'the tool result is shown');
    await screenshot(t, page, 'dashboard-tool-call');
    await page.locator('#call-args').fill('{"path": "missing.txt"}');
    await page.locator('#call-run').click();
    t.match(await page.locator('.result-error #call-text').textContent(), /file not found/, "the tool's error result is shown as one");
    await page.goto(`${proxy.base}/#tools/echo/echo`);
    await page.locator('#call-args').fill('{"text": "hello from the dashboard"}');
    await page.locator('#call-run').click();
    t.equal(await page.locator('#call-text').textContent(), 'hello from the dashboard', 'echo answers');
    await page.locator('#call-args').fill('{"text": ');
    await page.locator('#call-run').click();
    t.match(await page.locator('.result-error').textContent(), /Invalid arguments/, 'arguments that are not JSON are refused before any request');

    // The calls: newest first, then filtered by service.
    await page.locator('#tabs a[data-view=calls]').click();
    await page.locator('#calls-table tr.call').nth(2).waitFor();
    t.equal(await page.locator('#calls-table tr.call').first().locator('td').nth(1).textContent(), 'echo', 'newest first');
    await page.locator('#call-filter input[name=service]').fill('fs');
    const services = () => page.locator('#calls-table tr.call td:nth-child(2)').allTextContents();
    await waitFor(async () => (await services()).every((name) => name === 'fs'), 'only the fs calls are listed');
    t.equal(await page.locator('#calls-table tr.call').count(), 2, 'the filter leaves the two fs calls');
    await page.locator('#call-filter select[name=outcome]').selectOption('tool_error');
    await waitFor(async () => (await page.locator('#calls-table tr.call').count()) === 1, 'only the failed fs call is listed');
    t.match(await page.locator('#calls-table tr.call').first().textContent(), /read_text[\s\S]*tool_error/, 'filtered by outcome too');
    await page.locator('#calls-table tr.call').first().click();
    await page.locator('#calls-table tr.detail').waitFor();
    await screenshot(t, page, 'dashboard-calls');

    // One service: its instances, charts (or the note that this proxy has none) and its events.
    await page.goto(`${proxy.base}/#service/fs`);
    await page.locator('#svc-timeline li').first().waitFor();
    await page.locator('#svc-instances tr').first().waitFor();
    await screenshot(t, page, 'dashboard-service');
    t.same(problems, [], 'no console error, no failed request');

    await page.locator('form[action="/logout"] button').click();
    await page.locator('#token').waitFor();
    t.equal((await context.cookies()).length, 0, 'logging out clears the cookie');
  });
