#!/usr/bin/env node
// The Bot API emulator for the end-to-end tests: telegram-test-api 4.2.1, unmodified, with the
// fixes python-telegram-bot 22 needs mounted IN FRONT of its own express app. Requests we handle
// are answered here; everything else falls through to the package's routes.
//
//   node server.js --port 8081 [--token 123:ABC ...] [--host 127.0.0.1]
//   (or EMULATOR_PORT / EMULATOR_TOKENS=tok1,tok2 / EMULATOR_HOST)
//
// Prints one line "ready: telegram-test-api 4.2.1 on http://HOST:PORT" when it accepts requests.
// README.md next to this file explains every work-around. Routes under /fixture/ are not part of
// any Telegram API: they let the tests read what the person sees (messages, edits, answers).
'use strict';

const crypto = require('crypto');
const express = require('express');
const TelegramServer = require('telegram-test-api');

const PACKAGE_VERSION = require('telegram-test-api/package.json').version;
const EXPECTED_VERSION = '4.2.1';
const STORE_TIMEOUT_S = 24 * 60 * 60; // the package purges messages after 60 s by default
const MAX_POLL_S = 50; // Telegram's own cap on getUpdates' timeout
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Options

function options(argv, env) {
  const opts = {
    port: Number(env.EMULATOR_PORT || 0),
    host: env.EMULATOR_HOST || '127.0.0.1',
    tokens: (env.EMULATOR_TOKENS || '').split(',').filter(Boolean),
  };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!['--port', '--host', '--token'].includes(flag)) throw new Error(`unknown argument ${flag}`);
    const value = inline !== undefined ? inline : argv[(i += 1)];
    if (flag === '--port') opts.port = Number(value);
    else if (flag === '--host') opts.host = value;
    else opts.tokens.push(value);
  }
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    // The package turns port 0 into 9000, so an explicit free port is required.
    throw new Error('give a port: --port N or EMULATOR_PORT=N (1-65535)');
  }
  if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
    throw new Error(`refusing to listen on ${opts.host}: loopback addresses only`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
    this.description = description;
  }
}

const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);
const nowS = () => Math.floor(Date.now() / 1000);
const truthy = (v) => v === true || v === 1 || v === 'true' || v === 'True' || v === '1';
const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function jsonParam(value, name) {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw badRequest(`can't parse ${name} JSON object`);
  }
}

function chatIdParam(params) {
  const chatId = Number(params.chat_id);
  if (params.chat_id === undefined || params.chat_id === '' || !Number.isSafeInteger(chatId)) {
    throw badRequest('chat not found');
  }
  return chatId;
}

function messageIdParam(params) {
  const messageId = Number(params.message_id);
  if (!Number.isSafeInteger(messageId)) throw badRequest('message identifier is not specified');
  return messageId;
}

function botIdOf(token) {
  const id = Number(String(token).split(':')[0]);
  return Number.isSafeInteger(id) && id > 0 ? id : 666;
}

// ---------------------------------------------------------------------------------------------
// Telegram HTML -> plain text + entities, as a Telegram client would show the message.

const HTML_TAGS = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  code: 'code',
  pre: 'pre',
  a: 'text_link',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};
const NAMED_ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"' };

function parseHtml(src) {
  let text = '';
  const entities = [];
  const open = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '<') {
      const end = src.indexOf('>', i);
      if (end < 0) throw badRequest(`can't parse entities: Unclosed start tag at offset ${i}`);
      const raw = src.slice(i + 1, end);
      const tag = /^(\/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^]*)?$/.exec(raw);
      if (!tag) {
        throw badRequest(`can't parse entities: Unsupported start tag "${raw}" at offset ${i}`);
      }
      const [, closing, rawName, attrs = ''] = tag;
      const name = rawName.toLowerCase();
      const type = HTML_TAGS[name];
      if (!type || (name === 'span' && !/class\s*=\s*["']?tg-spoiler/.test(attrs))) {
        throw badRequest(`can't parse entities: Unsupported start tag "${name}" at offset ${i}`);
      }
      if (closing) {
        const top = open.pop();
        if (!top || top.name !== name) {
          throw badRequest(
            `can't parse entities: Unmatched end tag at offset ${i}, expected ` +
              `"</${top ? top.name : ''}>", found "</${name}>"`,
          );
        }
        if (text.length > top.offset) {
          entities.push({ ...top.entity, offset: top.offset, length: text.length - top.offset });
        }
      } else {
        const entity = { type };
        if (name === 'a') {
          const href = /href\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))/.exec(attrs);
          if (!href) throw badRequest(`can't parse entities: <a> without href at offset ${i}`);
          entity.url = href[1] ?? href[2] ?? href[3];
        }
        if (name === 'blockquote' && /\bexpandable\b/.test(attrs)) {
          entity.type = 'expandable_blockquote';
        }
        open.push({ name, offset: text.length, entity });
      }
      i = end + 1;
    } else if (ch === '&') {
      const ref = /^&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/.exec(src.slice(i, i + 12));
      let decoded;
      if (ref && ref[1][0] === '#') {
        const code = ref[1][1].toLowerCase() === 'x'
          ? parseInt(ref[1].slice(2), 16)
          : parseInt(ref[1].slice(1), 10);
        decoded = String.fromCodePoint(code);
      } else if (ref) {
        decoded = NAMED_ENTITIES[ref[1]];
      }
      if (decoded !== undefined) {
        text += decoded;
        i += ref[0].length;
      } else {
        text += ch; // a lone "&" is shown as it is
        i += 1;
      }
    } else {
      text += ch;
      i += 1;
    }
  }
  if (open.length) {
    const last = open[open.length - 1].name;
    throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "${last}"`);
  }
  return { text, entities };
}

// Telegram trims the text it stores, and moves the entities with it.
function trimmed({ text, entities }) {
  const lead = text.length - text.trimStart().length;
  const out = text.trim();
  const moved = [];
  for (const e of entities) {
    const start = Math.max(0, e.offset - lead);
    const end = Math.min(out.length, e.offset - lead + e.length);
    if (end > start) moved.push({ ...e, offset: start, length: end - start });
  }
  moved.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text: out, entities: moved };
}

function formatted(text, parseMode, entitiesParam, what) {
  if (text === undefined || text === null) return { text: '', entities: [] };
  const raw = String(text);
  const given = jsonParam(entitiesParam, `${what} entities`);
  if (Array.isArray(given)) return trimmed({ text: raw, entities: given });
  if (String(parseMode || '').toLowerCase() === 'html') return trimmed(parseHtml(raw));
  return trimmed({ text: raw, entities: [] }); // Markdown is shown as written
}

function inlineMarkup(value) {
  const markup = jsonParam(value, 'reply_markup');
  if (!markup || !Array.isArray(markup.inline_keyboard)) return { inline: undefined, raw: markup };
  for (const row of markup.inline_keyboard) {
    for (const b of row) {
      if (typeof b.text !== 'string' || !b.text) throw badRequest('button text must be non-empty');
      if (b.callback_data !== undefined && Buffer.byteLength(String(b.callback_data)) > 64) {
        throw badRequest('BUTTON_DATA_INVALID');
      }
    }
  }
  const inline = markup.inline_keyboard.some((row) => row.length) ? markup : undefined;
  return { inline, raw: markup };
}

// ---------------------------------------------------------------------------------------------
// multipart/form-data (sendPhoto/sendDocument uploads): express has no parser for it.

function parseMultipart(buffer, boundary) {
  const fields = {};
  const files = {};
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let pos = buffer.indexOf(delimiter);
  while (pos !== -1) {
    pos += delimiter.length;
    if (buffer.slice(pos, pos + 2).toString() === '--') break;
    pos += 2; // CRLF after the boundary
    const headEnd = buffer.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const head = buffer.slice(pos, headEnd).toString('utf8');
    const end = buffer.indexOf(next, headEnd + 4);
    if (end < 0) break;
    const body = buffer.slice(headEnd + 4, end);
    const disposition = (/content-disposition:[^\r\n]*/i.exec(head) || [''])[0];
    const name = (/\bname="([^"]*)"/i.exec(disposition) || [])[1];
    const filename = (/\bfilename="([^"]*)"/i.exec(disposition) || [])[1];
    const type = (/content-type:\s*([^\r\n]+)/i.exec(head) || [])[1];
    if (name !== undefined && filename !== undefined) {
      files[name] = { filename, mime_type: (type || 'application/octet-stream').trim(), body };
    } else if (name !== undefined) {
      fields[name] = body.toString('utf8');
    }
    pos = end + 2;
  }
  return { fields, files };
}

function multipart(req, res, next) {
  const type = req.headers['content-type'] || '';
  const match = /^multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!match || req._body) return next();
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= MAX_UPLOAD_BYTES) chunks.push(chunk);
  });
  req.on('error', next);
  req.on('end', () => {
    if (size > MAX_UPLOAD_BYTES) {
      res.status(413).json({ ok: false, error_code: 413, description: 'Request Entity Too Large' });
      return;
    }
    const { fields, files } = parseMultipart(Buffer.concat(chunks), match[1] || match[2]);
    req.body = fields;
    req.files = files;
    req._body = true; // the package's body parsers leave it alone
    next();
  });
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The emulator

function createEmulator({ port, host, tokens }) {
  const server = new TelegramServer({ port, host, storeTimeout: STORE_TIMEOUT_S });
  const known = new Set(tokens);
  const views = new Map(); // "token|chat|message" -> the bot's message as the person sees it now
  const files = new Map(); // file_id -> {filename, mime_type, body}
  const chats = new Map(); // "token|chat" -> chat object, once the person has written
  const callbacks = new Map(); // callback_query_id -> {token, chatId, messageId, answered}
  const webhooks = new Map(); // token -> {url, secret_token, ..., delivered, last_status}
  const commands = new Map(); // token -> {"scope|lang" -> [BotCommand]}
  const polls = new Map(); // token -> time of the latest getUpdates (the bot is polling)
  const delivering = new Set();
  const wakers = new Map(); // token -> ends the pause between failed webhook deliveries
  const events = []; // everything that happened in any chat, in order, for /fixture/events
  let seq = 0;

  const viewKey = (token, chatId, messageId) => `${token}|${chatId}|${messageId}`;
  const record = (token, chatId, type, fields) => {
    seq += 1;
    const event = { seq, token, chat_id: chatId, type, at: Date.now() / 1000, ...fields };
    events.push(event);
    server.emit('fixture:event', event);
    return event;
  };
  const botUser = (token) => ({
    id: botIdOf(token),
    is_bot: true,
    first_name: 'Test First name',
    username: 'TestNameBot',
  });
  const chatOf = (token, chatId) => {
    const chat = chats.get(`${token}|${chatId}`);
    if (!chat) {
      throw new ApiError(403, "Forbidden: bot can't initiate conversation with a user");
    }
    return chat;
  };
  const storedBotMessage = (token, chatId, messageId) =>
    server.storage.botMessages.find(
      (u) => u.botToken === token && u.messageId === messageId
        && String(u.message.chat_id) === String(chatId),
    );
  const findView = (token, params, verb) => {
    if (params.inline_message_id) throw badRequest('inline messages are not emulated');
    const chatId = chatIdParam(params);
    const messageId = messageIdParam(params);
    const view = views.get(viewKey(token, chatId, messageId));
    if (!view) throw badRequest(`message to ${verb} not found`);
    return { chatId, messageId, view };
  };

  // -- updates: one queue (the package's storage) read by getUpdates or pushed to the webhook
  const pending = (token) =>
    server.storage.userMessages
      .filter((u) => u.botToken === token && !u.isRead)
      .sort((a, b) => a.updateId - b.updateId);
  const formatUpdate = (stored) => {
    const update = TelegramServer.formatUpdate(stored);
    if (update.message) delete update.message.botToken;
    if (update.callback_query) {
      update.callback_query.chat_instance = stored.callbackQuery.chat_instance;
    }
    return update;
  };
  const dropPending = (token) => pending(token).forEach((u) => { u.isRead = true; });

  async function deliver(token) {
    if (delivering.has(token)) return;
    delivering.add(token);
    let backoff = 100;
    try {
      for (;;) {
        const hook = webhooks.get(token);
        const next = hook && pending(token)[0];
        if (!next) break;
        try {
          const headers = { 'content-type': 'application/json' };
          if (hook.secret_token) headers['x-telegram-bot-api-secret-token'] = hook.secret_token;
          const response = await fetch(hook.url, {
            method: 'POST',
            headers,
            body: JSON.stringify(formatUpdate(next)),
            signal: AbortSignal.timeout(10000),
          });
          await response.arrayBuffer();
          hook.last_status = response.status;
          if (!response.ok) throw new Error(`Wrong response from the webhook: ${response.status}`);
          next.isRead = true;
          hook.delivered += 1;
          backoff = 100;
        } catch (err) {
          hook.last_error_date = nowS();
          hook.last_error_message = String(err.cause ? err.cause.message || err.cause : err);
          console.error(`webhook delivery failed (will retry): ${hook.last_error_message}`);
          await new Promise((resolve) => { // a new setWebhook cuts the pause short
            const timer = setTimeout(resolve, backoff);
            wakers.set(token, () => { clearTimeout(timer); resolve(); });
          });
          wakers.delete(token);
          backoff = Math.min(backoff * 2, 2000);
        }
      }
    } finally {
      delivering.delete(token);
    }
  }

  function updateQueued(token) {
    server.emit('fixture:update', token);
    deliver(token);
  }

  // -- sending and editing messages
  function storeBotMessage(token, chatId, method, content, markup, extra = {}) {
    const chat = chatOf(token, chatId);
    // The package stores it and hands out the ids; its reply has a date in milliseconds.
    const sent = server.addBotMessage(
      { chat_id: String(chatId), ...content, reply_markup: markup.inline },
      token,
    );
    const view = {
      message_id: sent.message_id,
      from: botUser(token),
      chat,
      date: Math.floor(sent.date / 1000),
      ...content,
    };
    if (markup.inline) view.reply_markup = markup.inline;
    views.set(viewKey(token, chatId, view.message_id), view);
    record(token, chatId, 'message', {
      method,
      message_id: view.message_id,
      message: copy(view),
      reply_markup: copy(markup.raw), // also reply keyboards, which a Message does not carry
      ...extra,
    });
    return view;
  }

  function textContent(params, key, parseMode, entities) {
    const { text, entities: found } = formatted(params[key], parseMode, entities, key);
    const content = { [key]: text };
    if (found.length) content[key === 'text' ? 'entities' : 'caption_entities'] = found;
    return content;
  }

  function applyEdit(token, chatId, messageId, view, changes, method) {
    const stored = storedBotMessage(token, chatId, messageId);
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete view[key];
      else view[key] = value;
      if (stored) {
        if (value === undefined) delete stored.message[key];
        else stored.message[key] = value;
      }
    }
    view.edit_date = nowS();
    record(token, chatId, 'edit', { method, message_id: messageId, message: copy(view) });
    return view;
  }

  function upload(token, params, req, field) {
    const value = params[field];
    const attached = typeof value === 'string' && value.startsWith('attach://')
      ? req.files && req.files[value.slice('attach://'.length)]
      : req.files && req.files[field];
    if (attached) {
      const fileId = `file-${crypto.randomBytes(8).toString('hex')}`;
      files.set(fileId, attached);
      return { fileId, ...attached, size: attached.body.length, source: 'upload' };
    }
    if (typeof value === 'string' && value) {
      const known = files.get(value);
      if (known) return { fileId: value, ...known, size: known.body.length, source: 'file_id' };
      const fileId = `file-${crypto.randomBytes(8).toString('hex')}`;
      const name = value.split('/').pop() || 'file';
      const body = Buffer.alloc(0);
      files.set(fileId, { filename: name, mime_type: 'application/octet-stream', body });
      return { fileId, filename: name, mime_type: 'application/octet-stream', size: 0, source: value };
    }
    throw badRequest(`there is no ${field} in the request`);
  }

  function sendFile(method, field, token, params, req) {
    const chatId = chatIdParam(params);
    chatOf(token, chatId);
    const file = upload(token, params, req, field);
    const media = field === 'photo'
      ? {
        photo: [{
          file_id: file.fileId,
          file_unique_id: file.fileId.slice(5, 13),
          width: 320,
          height: 320,
          file_size: file.size,
        }],
      }
      : {
        document: {
          file_id: file.fileId,
          file_unique_id: file.fileId.slice(5, 13),
          file_name: file.filename,
          mime_type: file.mime_type,
          file_size: file.size,
        },
      };
    const caption = params.caption !== undefined
      ? textContent(params, 'caption', params.parse_mode, params.caption_entities)
      : {};
    const upload_ = {
      field,
      file_id: file.fileId,
      filename: file.filename,
      mime_type: file.mime_type,
      size: file.size,
      source: file.source,
    };
    return storeBotMessage(token, chatId, method, { ...media, ...caption },
      inlineMarkup(params.reply_markup), { upload: upload_ });
  }

  // -- the Bot API methods we answer ourselves (lower-case names; Telegram ignores case)
  const methods = {
    getme: (token) => ({
      ...botUser(token),
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    }),

    sendmessage(token, params) {
      const chatId = chatIdParam(params);
      chatOf(token, chatId);
      const content = textContent(params, 'text', params.parse_mode, params.entities);
      if (!content.text) throw badRequest('message text is empty');
      if (content.text.length > 4096) throw badRequest('message is too long');
      return storeBotMessage(token, chatId, 'sendMessage', content,
        inlineMarkup(params.reply_markup));
    },

    sendphoto: (token, params, req) => sendFile('sendPhoto', 'photo', token, params, req),
    senddocument: (token, params, req) => sendFile('sendDocument', 'document', token, params, req),

    editmessagetext(token, params) {
      const { chatId, messageId, view } = findView(token, params, 'edit');
      if (view.text === undefined) throw badRequest('there is no text in the message to edit');
      const content = textContent(params, 'text', params.parse_mode, params.entities);
      if (!content.text) throw badRequest('message text is empty');
      const markup = inlineMarkup(params.reply_markup).inline; // none given: the buttons go
      if (view.text === content.text && same(view.entities, content.entities)
        && same(view.reply_markup, markup)) {
        throw badRequest('message is not modified: specified new message content and reply '
          + 'markup are exactly the same as a current content and reply markup of the message');
      }
      return applyEdit(token, chatId, messageId, view,
        { text: content.text, entities: content.entities, reply_markup: markup },
        'editMessageText');
    },

    editmessagereplymarkup(token, params) {
      const { chatId, messageId, view } = findView(token, params, 'edit');
      const markup = inlineMarkup(params.reply_markup).inline;
      if (same(view.reply_markup, markup)) {
        throw badRequest('message is not modified: specified new message content and reply '
          + 'markup are exactly the same as a current content and reply markup of the message');
      }
      return applyEdit(token, chatId, messageId, view, { reply_markup: markup },
        'editMessageReplyMarkup');
    },

    deletemessage(token, params) {
      const { chatId, messageId } = findView(token, params, 'delete');
      views.delete(viewKey(token, chatId, messageId));
      server.deleteMessage(chatId, messageId);
      record(token, chatId, 'delete', { method: 'deleteMessage', message_id: messageId });
      return true;
    },

    answercallbackquery(token, params) {
      const id = String(params.callback_query_id || '');
      const query = callbacks.get(id);
      if (!query || query.token !== token || query.answered) {
        throw badRequest('query is too old and response timeout expired or query ID is invalid');
      }
      const text = params.text === undefined ? undefined : String(params.text);
      if (text !== undefined && text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
      query.answered = true;
      record(token, query.chatId, 'callback_answer', {
        method: 'answerCallbackQuery',
        callback_query_id: id,
        message_id: query.messageId,
        text: text === undefined ? null : text,
        show_alert: truthy(params.show_alert),
        url: params.url === undefined ? null : params.url,
      });
      return true;
    },

    sendchataction(token, params) {
      const chatId = chatIdParam(params);
      chatOf(token, chatId);
      record(token, chatId, 'chat_action', { method: 'sendChatAction', action: params.action });
      return true;
    },

    setmycommands(token, params) {
      const list = jsonParam(params.commands, 'commands');
      if (!Array.isArray(list) || list.length > 100) throw badRequest('BOT_COMMANDS_TOO_MUCH');
      for (const c of list) {
        if (!/^[a-z0-9_]{1,32}$/.test(String(c.command || ''))) {
          throw badRequest('BOT_COMMAND_INVALID');
        }
        const description = String(c.description || '');
        if (!description || description.length > 256) {
          throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
        }
      }
      const key = `${JSON.stringify(jsonParam(params.scope, 'scope') || { type: 'default' })}|`
        + `${params.language_code || ''}`;
      if (!commands.has(token)) commands.set(token, {});
      commands.get(token)[key] = list.map((c) => ({
        command: String(c.command),
        description: String(c.description),
      }));
      return true;
    },

    getmycommands(token, params) {
      const key = `${JSON.stringify(jsonParam(params.scope, 'scope') || { type: 'default' })}|`
        + `${params.language_code || ''}`;
      return (commands.get(token) || {})[key] || [];
    },

    deletemycommands(token, params) {
      const key = `${JSON.stringify(jsonParam(params.scope, 'scope') || { type: 'default' })}|`
        + `${params.language_code || ''}`;
      delete (commands.get(token) || {})[key];
      return true;
    },

    getwebhookinfo(token) {
      const hook = webhooks.get(token);
      const info = { url: hook ? hook.url : '', has_custom_certificate: false };
      info.pending_update_count = pending(token).length;
      if (hook) {
        info.max_connections = hook.max_connections;
        info.ip_address = '127.0.0.1';
        if (hook.allowed_updates) info.allowed_updates = hook.allowed_updates;
        if (hook.last_error_date) {
          info.last_error_date = hook.last_error_date;
          info.last_error_message = hook.last_error_message;
        }
      }
      return info;
    },

    setwebhook(token, params) {
      const url = String(params.url || '');
      if (!url) return methods.deletewebhook(token, params);
      if (!/^https?:\/\//.test(url)) throw badRequest('bad webhook: An HTTPS URL must be provided');
      const secret = params.secret_token === undefined ? undefined : String(params.secret_token);
      if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
        throw badRequest('secret token contains unallowed characters');
      }
      if (truthy(params.drop_pending_updates)) dropPending(token);
      webhooks.set(token, {
        url,
        secret_token: secret,
        allowed_updates: jsonParam(params.allowed_updates, 'allowed_updates'),
        max_connections: Number(params.max_connections) || 40,
        delivered: 0,
        last_status: null,
      });
      console.log(`webhook set: ${url}${secret ? ' (with a secret token)' : ''}`);
      server.emit('fixture:update', token); // long polls in progress get their Conflict
      if (wakers.has(token)) wakers.get(token)();
      deliver(token);
      return true;
    },

    deletewebhook(token, params) {
      webhooks.delete(token);
      if (truthy(params.drop_pending_updates)) dropPending(token);
      return true;
    },

    getupdates(token, params, req, res) {
      if (webhooks.has(token)) {
        throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
          + 'use deleteWebhook to delete the webhook first');
      }
      polls.set(token, Date.now() / 1000);
      const offset = Number(params.offset) || 0;
      if (offset > 0) {
        pending(token).filter((u) => u.updateId < offset).forEach((u) => { u.isRead = true; });
      }
      const limit = Math.min(Math.max(Number(params.limit) || 100, 1), 100);
      const timeout = Math.min(Math.max(Number(params.timeout) || 0, 0), MAX_POLL_S);
      const take = () => pending(token).slice(0, limit).map(formatUpdate);
      const ready = take();
      if (ready.length || timeout === 0) return ready;
      // Long polling: hold the request until an update arrives or the timeout runs out.
      return new Promise((resolve, reject) => {
        const finish = (value) => {
          clearTimeout(timer);
          server.off('fixture:update', onUpdate);
          res.off('close', onClose);
          resolve(value);
        };
        const onUpdate = (forToken) => {
          if (forToken !== token) return;
          if (webhooks.has(token)) {
            clearTimeout(timer);
            server.off('fixture:update', onUpdate);
            res.off('close', onClose);
            reject(new ApiError(409, 'Conflict: terminated by setWebhook request'));
          } else if (pending(token).length) {
            finish(take());
          }
        };
        const onClose = () => finish(undefined); // the bot gave up waiting: nothing is lost
        const timer = setTimeout(() => finish(take()), timeout * 1000);
        server.on('fixture:update', onUpdate);
        res.on('close', onClose);
      });
    },
  };

  // -- the Bot API, in front of the package's routes
  function botApi(req, res, next) {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)\/?$/.exec(req.path);
    if (!match) return next();
    const [, token, method] = match;
    const send = (status, body) => {
      if (!res.headersSent && !res.writableEnded) res.status(status).json(body);
    };
    if (known.size && !known.has(token)) {
      return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const handler = methods[method.toLowerCase()];
    if (!handler) {
      console.error(`not emulated, passed to telegram-test-api: ${method}`);
      return next();
    }
    const params = { ...req.query, ...(req.body && typeof req.body === 'object' ? req.body : {}) };
    Promise.resolve()
      .then(() => handler(token, params, req, res))
      .then((result) => {
        if (result !== undefined) send(200, { ok: true, result });
      })
      .catch((err) => {
        if (err instanceof ApiError) {
          send(err.code, { ok: false, error_code: err.code, description: err.description });
        } else {
          console.error(`${method} failed:`, err);
          send(500, { ok: false, error_code: 500, description: `Internal Server Error: ${err}` });
        }
      });
    return undefined;
  }

  // -- the person's side: the package's client routes, fixed
  const person = express.Router();

  function tokenOf(body) {
    const token = body.botToken || body.token;
    if (!token) throw badRequest('botToken is required');
    if (known.size && !known.has(token)) throw badRequest(`unknown bot token ${token}`);
    return token;
  }

  function personOf(token, body) {
    const from = body.from || {};
    const user = {
      id: Number(from.id || body.userId || 1),
      is_bot: false,
      first_name: String(from.first_name || body.firstName || 'Test'),
    };
    if (from.last_name) user.last_name = String(from.last_name);
    if (from.username || body.userName) user.username = String(from.username || body.userName);
    if (from.language_code) user.language_code = String(from.language_code);
    const chat = body.chat && body.chat.id !== undefined
      ? { ...body.chat, id: Number(body.chat.id) }
      : { id: user.id, type: 'private' };
    if (chat.type === 'private') {
      delete chat.title;
      chat.first_name = chat.first_name || user.first_name;
      if (user.username) chat.username = user.username;
    }
    chats.set(`${token}|${chat.id}`, chat);
    return { user, chat };
  }

  function commandEntity(text) {
    const match = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?/.exec(text);
    return match ? [{ offset: 0, length: match[0].length, type: 'bot_command' }] : undefined;
  }

  const handleRoute = (fn) => (req, res) => {
    Promise.resolve()
      .then(() => fn(req.body || {}))
      .then((result) => res.json({ ok: true, result }))
      .catch((err) => {
        const code = err instanceof ApiError ? err.code : 500;
        if (!(err instanceof ApiError)) console.error(`${req.path} failed:`, err);
        res.status(code).json({ ok: false, error_code: code, description: String(err.message) });
      });
  };

  async function personSends(body, asCommand) {
    const token = tokenOf(body);
    const { user, chat } = personOf(token, body);
    const text = String(body.text ?? '');
    let entities = jsonParam(body.entities, 'entities');
    if (!entities) entities = commandEntity(text); // Telegram marks commands itself
    if (asCommand && !(entities || []).some((e) => e.type === 'bot_command' && e.offset === 0)) {
      throw badRequest('a command must start with /name');
    }
    let date = Number(body.date) || nowS();
    if (date > 1e11) date = Math.floor(date / 1000);
    const message = { botToken: token, from: user, chat, date, text };
    if (entities && entities.length) message.entities = entities;
    const messageId = server.messageId;
    const updateId = server.updateId;
    if (asCommand) await server.addUserCommand(message);
    else await server.addUserMessage(message);
    record(token, chat.id, 'user_message', { message_id: messageId, text, from: user });
    updateQueued(token);
    return { message_id: messageId, update_id: updateId };
  }

  person.post('/sendMessage', handleRoute((body) => personSends(body, false)));
  person.post('/sendCommand', handleRoute((body) => personSends(body, true)));
  person.post('/sendCallback', handleRoute(async (body) => {
    const token = tokenOf(body);
    const { user, chat } = personOf(token, body);
    const messageId = Number(body.message_id ?? (body.message && body.message.message_id));
    const view = views.get(viewKey(token, chat.id, messageId));
    if (!view) throw badRequest(`the bot has no message ${messageId} in chat ${chat.id}`);
    const id = String(server.callbackId);
    const updateId = server.updateId;
    callbacks.set(id, { token, chatId: chat.id, messageId, answered: false });
    await server.addUserCallback({
      botToken: token,
      from: user,
      message: copy(view),
      chat_instance: `${botIdOf(token)}${Math.abs(chat.id)}`,
      data: String(body.data ?? ''),
    });
    record(token, chat.id, 'callback_query', {
      callback_query_id: id,
      message_id: messageId,
      data: String(body.data ?? ''),
      from: user,
    });
    updateQueued(token);
    return { callback_query_id: id, update_id: updateId };
  }));

  // -- what the tests read (not a Telegram API)
  const fixture = express.Router();
  fixture.post('/events', handleRoute((body) => {
    const after = Number(body.after) || 0;
    const chatId = body.chat_id === undefined ? undefined : Number(body.chat_id);
    const token = body.token;
    return {
      seq,
      events: events.filter((e) => e.seq > after
        && (token === undefined || e.token === token)
        && (chatId === undefined || e.chat_id === chatId)),
    };
  }));
  // Private chats of people who pressed Start earlier, without an update each (load tests).
  fixture.post('/chats', handleRoute((body) => {
    for (const id of body.chat_ids || []) {
      chats.set(`${body.token}|${Number(id)}`, { id: Number(id), type: 'private', first_name: 'Sam' });
    }
    return true;
  }));
  fixture.post('/messages', handleRoute((body) => {
    const prefix = `${body.token}|${Number(body.chat_id)}|`;
    return [...views.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, view]) => view)
      .sort((a, b) => a.message_id - b.message_id);
  }));
  fixture.get('/state', handleRoute(() => {
    const describe = (hook) => ({
      url: hook.url,
      secret_token: hook.secret_token,
      delivered: hook.delivered,
      last_status: hook.last_status,
      last_error_message: hook.last_error_message ?? null,
    });
    return {
      version: PACKAGE_VERSION,
      seq,
      polling: Object.fromEntries(polls),
      webhooks: Object.fromEntries([...webhooks].map(([t, h]) => [t, describe(h)])),
      commands: Object.fromEntries(commands),
      pending: Object.fromEntries([...new Set(server.storage.userMessages.map((u) => u.botToken))]
        .map((t) => [t, pending(t).length])),
    };
  }));
  fixture.get('/file/:fileId', (req, res) => {
    const file = files.get(req.params.fileId);
    if (!file) {
      res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
      return;
    }
    res.type(file.mime_type).set('content-disposition', `attachment; filename="${file.filename}"`);
    res.send(file.body);
  });

  // The package's express app, with ours in front of it. It is started by the package's own
  // start(), which listens with whatever `webServer` holds.
  const theirs = server.webServer;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '5mb' }));
  app.use(express.urlencoded({ extended: true, limit: '5mb' }));
  app.use(multipart);
  app.use(botApi);
  app.use(person);
  app.use('/fixture', fixture);
  app.use(theirs);
  server.webServer = app;
  return server;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (PACKAGE_VERSION !== EXPECTED_VERSION) {
    console.error(`telegram-test-api ${PACKAGE_VERSION} is installed; these work-arounds are for `
      + `${EXPECTED_VERSION}. Run: npm ci --prefix tests/e2e/emulator`);
    process.exit(3);
  }
  let opts;
  try {
    opts = options(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`emulator: ${err.message}`);
    process.exit(2);
  }
  // Last line of defence: the package starts promises nobody awaits (e.g. its webhook call).
  process.on('unhandledRejection', (err) => {
    console.error('emulator: unhandled rejection (kept running):', err);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
  const server = createEmulator(opts);
  try {
    await server.start();
  } catch (err) {
    console.error(`emulator: cannot listen on ${opts.host}:${opts.port}: ${err.message}`);
    process.exit(4);
  }
  console.log(`ready: telegram-test-api ${PACKAGE_VERSION} on http://${opts.host}:${opts.port}`);
}

if (require.main === module) main();

module.exports = { createEmulator, parseHtml };
