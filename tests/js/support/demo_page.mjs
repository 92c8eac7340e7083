// What the browser tests read on finch_demo's page (examples/finch_demo/
// page.hpp), over ws:// or wss://: its log and the id it shows. Every wait is
// a Playwright locator's, which polls until the page shows it or the test's
// timeout ends it.

// An envelope's timestamp as the page prints it.
export const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function demoPage(page) {
  return {
    // The log's entries received on `path` (and with `status`, when given)
    // whose data shows `text` (a string it contains, or a regular expression).
    received(path, text, status) {
      const selector = `#log li.in[data-path="${path}"]` + (status === undefined ? '' : `[data-status="${status}"]`);
      return page.locator(selector).filter({ has: page.locator('pre', { hasText: text }) });
    },
    // Waits until the page shows what `locator` finds (the latest, if several).
    shows(locator) {
      return locator.last().waitFor();
    },
    // The log's own lines (connected, closed, reconnecting).
    note(text) {
      return page.locator('#log li.note').filter({ hasText: text });
    },
    // The connection's id, once the page shows it.
    async myId() {
      await page.locator('#me').filter({ hasText: /^you are [0-9a-f]+$/ }).waitFor();
      return (await page.locator('#me').textContent()).replace('you are ', '');
    },
  };
}
