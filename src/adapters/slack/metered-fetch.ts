/**
 * Counts every HTTP request the Slack WebClient makes (its retries included)
 * and how Slack answered, by API method. The WebClient takes a `fetch`, so
 * this sees exactly what went over the wire, 429s the SDK then waits out
 * included, without touching the SDK. Bolt posts to response_urls with the
 * same fetch: those count as `response_url`, never by their (secret) path.
 */
import type { FetchFunction } from '@slack/web-api';

/** `method` is the Web API method (or `response_url`); `status` the HTTP status, or 'error' when no answer came. */
export type SlackCallObserver = (method: string, status: number | 'error') => void;

export function meteredFetch(fetch: FetchFunction, observe: SlackCallObserver): FetchFunction {
  return async (url, init) => {
    const method = apiMethod(url);
    try {
      const response = await fetch(url, init);
      observe(method, response.status);
      return response;
    } catch (err) {
      observe(method, 'error');
      throw err;
    }
  };
}

/** Web API calls are `…/api/<method>`; anything else Bolt posts to is a response_url, whose path is a secret. */
const API_METHOD = /\/api\/([A-Za-z0-9_.]+)$/;

/** `https://slack.com/api/chat.postMessage` → `chat.postMessage`; a response_url → `response_url`. */
export function apiMethod(url: string | URL): string {
  return API_METHOD.exec(new URL(String(url)).pathname)?.[1] ?? 'response_url';
}
