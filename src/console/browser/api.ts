/** Data access and page state shared by the console's pages. */

/** An answer the API refused, with its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GETs an API route as JSON. The browser adds the basic-auth credentials it already holds for
 * this site (the /api routes challenge with the same realm as the console).
 */
export async function getJson<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, value);
  const url = params.size > 0 ? `${path}?${params}` : path;
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) throw new ApiError(response.status, body.error ?? `${response.status} ${response.statusText}`);
  return body as T;
}

/** The page's state, on <body data-state> for people and tests alike. */
export function setState(state: 'loading' | 'ready' | 'error', message = ''): void {
  document.body.dataset.state = state;
  const status = document.getElementById('status');
  if (status) {
    status.textContent = message;
    status.className = state;
  }
}

/** The form's values as a query string the page can be reloaded from. */
export function formQuery(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of new FormData(form)) if (typeof value === 'string' && value !== '') values[key] = value;
  return values;
}

/** Fills the form from the page's query string (the values a link or a reload carries). */
export function fillForm(form: HTMLFormElement, query: URLSearchParams): void {
  for (const [key, value] of query) {
    const field = form.elements.namedItem(key);
    if (field instanceof HTMLInputElement && field.type === 'checkbox') field.checked = value === 'on';
    else if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = value;
  }
}

/** Creates an element with text or children. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  content: string | Node[] = [],
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (typeof content === 'string') node.textContent = content;
  else node.append(...content);
  return node;
}
