// The visitor's story of issue 6 in a real headless Chromium, with an agent
// on the other side speaking GraphQL. Run by tests/e2e/browser.rs, which
// starts the server and passes:
//   LIVEDESK_URL  the server (http://127.0.0.1:PORT)
//   WIDGET_KEY    the site's widget key
//   SITE_ID       the site
//   AGENT_TOKEN   an agent's API token (display name "Ana")
//   CHROMIUM      the browser (default /usr/bin/chromium)
// Exits 0 when every step held; otherwise prints the failing step and 1.
import { chromium } from "playwright-core";

const { LIVEDESK_URL: base, WIDGET_KEY: key, SITE_ID: site, AGENT_TOKEN: token } = process.env;
const STEP_TIMEOUT = 15_000;

function step(name) {
  console.log(`step: ${name}`);
}

async function graphql(query, variables) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function eventually(what, check, timeout = STEP_TIMEOUT) {
  const until = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const liveSessionIds = async () => {
  const data = await graphql("query($s: ID!) { liveSessions(siteId: $s) { nodes { id currentPath } } }", { s: site });
  return data.liveSessions.nodes;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("console", (message) => console.log(`page: ${message.text()}`));

  step("open the demo page; the widget starts a session");
  await page.goto(`${base}/demo/pricing?key=${key}`);
  const session = await page.evaluate(() => window.Livedesk.ready);
  await page.click("#livedesk-open");
  await page.waitForSelector("#livedesk-badge:text-is('Assistant')");

  step("the agent sees the session in the Live View, on /demo/pricing");
  await eventually("the session in the Live View", async () =>
    (await liveSessionIds()).some((s) => s.id === session.sessionId && s.currentPath === "/demo/pricing"));

  step("the visitor asks; the assistant answers from the text blocks");
  await page.fill("#livedesk-input", "How do returns work?");
  await page.press("#livedesk-input", "Enter");
  await page.waitForSelector(".livedesk-message[data-author='visitor'] >> text=How do returns work?");
  await page.waitForSelector(".livedesk-message[data-author='assistant'] >> text=/30 days/");

  step("the agent sees the conversation in the inbox");
  const conversation = await eventually("the conversation in the inbox", async () => {
    const data = await graphql(
      "query($s: ID!) { conversations(siteId: $s, status: ALL) { nodes { id lastMessagePreview } } }",
      { s: site },
    );
    return data.conversations.nodes.find((c) => c.id === session.conversationId);
  });
  if (!conversation) throw new Error("no conversation");

  step("the agent takes over; the page shows the live-agent badge");
  await graphql("mutation($id: ID!) { takeOver(conversationId: $id) { id } }", { id: session.conversationId });
  await page.waitForSelector("#livedesk-badge:text-is('Live agent · Ana')");

  step("the agent replies; the page shows the reply under the agent's name");
  await graphql("mutation($id: ID!, $body: String!) { sendMessage(conversationId: $id, body: $body) { message { id } } }", {
    id: session.conversationId,
    body: "Hi, Ana here. I can help with that return.",
  });
  const reply = page.locator(".livedesk-message[data-author='agent']", { hasText: "Ana here" });
  await reply.waitFor();
  const author = await reply.locator(".livedesk-author").textContent();
  if (author !== "Live agent · Ana") throw new Error(`the reply is signed ${JSON.stringify(author)}`);

  step("the visitor writes while the agent has it: the assistant stays quiet");
  const assistantAnswers = () => page.locator(".livedesk-message[data-author='assistant']").count();
  const before = await assistantAnswers();
  await page.fill("#livedesk-input", "Thanks! One more thing about returns.");
  await page.press("#livedesk-input", "Enter");
  await page.waitForSelector(".livedesk-message[data-author='visitor'] >> text=One more thing");

  step("the agent releases; the badge goes back to the assistant");
  await graphql("mutation($id: ID!) { release(conversationId: $id) { id } }", { id: session.conversationId });
  await page.waitForSelector("#livedesk-badge:text-is('Assistant')");
  if ((await assistantAnswers()) !== before) throw new Error("the assistant answered while the agent had the conversation");

  step("the assistant answers the next message");
  await page.fill("#livedesk-input", "Can I return shoes?");
  await page.press("#livedesk-input", "Enter");
  await eventually("the assistant's next answer", async () => (await assistantAnswers()) > before);

  step("the visitor closes the tab; the Live View row goes away");
  await page.close({ runBeforeUnload: true });
  await eventually(
    "the session to leave the Live View",
    async () => !(await liveSessionIds()).some((s) => s.id === session.sessionId),
    (session.leaveTimeoutSecs + 10) * 1000,
  );
  console.log("ok");
} catch (error) {
  console.error(`failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
