// Test harness for the Plexus NATS tests: one NATS operation with the official JavaScript client (nats.js), so the
// tests can check Plexus against a client that shares no code with it.
//
// Input: one JSON command, as the first argument or (when there is none) on stdin.
// Output: one JSON line on stdout. A NATS error (timeout, no responders, connection refused, authorization) is an
// answer, {ok:false, code, message} with nats.js's error code, and the exit code is 0; a malformed command or an
// unexpected failure goes to stderr with exit code 1, so the caller can tell "NATS said no" from "the harness broke".
//
// Commands (common fields: servers (string or array), token, user, pass, connectTimeoutMs):
//   {"op":"request", subject, payload (base64), headers ({name: value | [values]}, optional), timeoutMs}
//     -> {ok:true, payload (base64), headers: {name:[values]} | null, status?: {code, description}}
//   {"op":"services", verb: "ping"|"info"|"stats", name?, id?, timeoutMs}
//     -> {ok:true, responses: [the JSON objects as received]}
import { connect, headers as newHeaders, NatsError } from "nats";

async function readCommand() {
  if (process.argv.length > 2) {
    return JSON.parse(process.argv[2]);
  }

  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function connectOptions(command) {
  if (!command.servers) {
    throw new Error("'servers' is required");
  }

  // One attempt, no reconnects: a test wants the failure, not a client that keeps trying in the background.
  const options = {
    servers: command.servers,
    reconnect: false,
    maxReconnectAttempts: 0,
    timeout: command.connectTimeoutMs ?? 10000,
    name: "plexus-natsjs",
  };
  if (command.token !== undefined) {
    options.token = command.token;
  }
  if (command.user !== undefined) {
    options.user = command.user;
  }
  if (command.pass !== undefined) {
    options.pass = command.pass;
  }
  return options;
}

function timeoutOf(command) {
  const timeout = command.timeoutMs ?? 5000;
  if (typeof timeout !== "number" || timeout < 1) {
    throw new Error("'timeoutMs' must be a positive number");
  }
  return timeout;
}

async function request(nc, command) {
  if (typeof command.subject !== "string") {
    throw new Error("'subject' is required");
  }

  const options = { timeout: timeoutOf(command) };
  if (command.headers) {
    const h = newHeaders();
    for (const [name, value] of Object.entries(command.headers)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        h.append(name, String(v));
      }
    }
    options.headers = h;
  }

  const payload = Buffer.from(command.payload ?? "", "base64");
  const reply = await nc.request(command.subject, payload, options);
  const result = { ok: true, payload: Buffer.from(reply.data).toString("base64"), headers: null };
  if (reply.headers) {
    result.headers = {};
    for (const [name, values] of reply.headers) {
      result.headers[name] = [...values];
    }
    // A status line ("NATS/1.0 503 ...") rides on the headers; nats.js turns 503 into an error itself, others land here.
    if (reply.headers.code > 0) {
      result.status = { code: reply.headers.code, description: reply.headers.description };
    }
  }
  return result;
}

async function services(nc, command) {
  const verbs = { ping: "ping", info: "info", stats: "stats" };
  const verb = verbs[command.verb];
  if (!verb) {
    throw new Error(`'verb' must be ping, info or stats, not ${JSON.stringify(command.verb)}`);
  }

  // The client's default strategy: wait up to maxWait, but stop once responses have stopped coming for a moment.
  const client = nc.services.client({ strategy: "jitterTimer", maxWait: timeoutOf(command) });
  const responses = [];
  for await (const response of await client[verb](command.name ?? "", command.id ?? "")) {
    responses.push(response);
  }
  return { ok: true, responses };
}

function write(result, exitCode) {
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(exitCode));
}

async function main() {
  let command;
  try {
    command = await readCommand();
  } catch (err) {
    process.stderr.write(`natsjs: the command is not JSON: ${err.message}\n`);
    process.exit(1);
  }

  const operations = { request, services };
  const operation = operations[command.op];
  if (!operation) {
    process.stderr.write(`natsjs: unknown op ${JSON.stringify(command.op)} (request or services)\n`);
    process.exit(1);
  }

  let nc;
  try {
    nc = await connect(connectOptions(command));
    const result = await operation(nc, command);
    await nc.close();
    write(result, 0);
  } catch (err) {
    if (nc) {
      await nc.close().catch(() => {});
    }
    if (err instanceof NatsError || (err && typeof err.code === "string")) {
      write({ ok: false, code: err.code, message: err.message }, 0);
    } else {
      process.stderr.write(`natsjs: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    }
  }
}

main();
