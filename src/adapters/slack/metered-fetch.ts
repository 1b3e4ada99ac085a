/**
 * Counts every HTTP request the Slack WebClient makes (its retries included)
 * and how Slack answered, by API method. The WebClient takes a `fetch`, so
 * this sees exactly what went over the wire, 429s the SDK then waits out
 * included, without touching the SDK.
 */
import type { FetchFunction } from '@slack/web-api';

/** `status` is the HTTP status, or 'error' when no answer came (network, timeout). */
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

/** `https://slack.com/api/chat.postMessage` → `chat.postMessage`. */
function apiMethod(url: string | URL): string {
  const path = new URL(String(url)).pathname;
  return path.slice(path.lastIndexOf('/') + 1) || 'unknown';
}
