import {
  createBrowserRouter,
  createHashRouter,
  isRouteErrorResponse,
  Link,
  Navigate,
  useLocation,
  useRouteError,
  type RouteObject,
} from 'react-router';
import { DashboardPage } from '../dashboard/DashboardPage';
import { DatasetPage } from '../datasets/DatasetPage';
import { ComparePage } from '../experiments/ComparePage';
import { RunPage } from '../experiments/RunPage';
import { RunsPage } from '../experiments/RunsPage';
import { JobsPage } from '../jobs/JobsPage';
import { LabelProjectPage } from '../labeling/LabelProjectPage';
import { ModelPage } from '../models/ModelPage';
import { ErrorBanner } from '../components/ErrorBanner';
import { EmptyState } from '../components/ui';
import { SettingsPage } from '../settings/SettingsPage';
import { servicePageRoutes } from '../services/registry';
import { Shell } from './Shell';

const routes: RouteObject[] = [
  {
    path: '/',
    Component: Shell,
    children: [
      {
        ErrorBoundary: RouteError,
        children: [
          { index: true, Component: DashboardPage },
          { path: 'tasks', Component: JobsPage },
          { path: 'jobs', Component: TasksRedirect },
          { path: 'settings', Component: SettingsPage },
          ...servicePageRoutes(),
          { path: 'datasets/:name', Component: DatasetPage },
          { path: 'datasets/:name/label/:project', Component: LabelProjectPage },
          { path: 'experiments/:ids', Component: RunsPage },
          { path: 'experiments/runs/:run', Component: RunPage },
          { path: 'experiments/compare', Component: ComparePage },
          { path: 'models/:name', Component: ModelPage },
          { path: '*', Component: NotFound },
        ],
      },
    ],
  },
];

let router: ReturnType<typeof createBrowserRouter> | undefined;

/**
 * Browser history when served over HTTP (`aidos serve` answers client routes with index.html); hash history
 * when the desktop shell loads the built files from disk, where there is no server to do that.
 */
export function getRouter() {
  router ??= window.location.protocol === 'file:' ? createHashRouter(routes) : createBrowserRouter(routes);
  return router;
}

/** The background tasks' old address, from when the page was called Jobs: old links and bookmarks still work. */
function TasksRedirect() {
  const { search } = useLocation();
  return <Navigate to={{ pathname: '/tasks', search }} replace />;
}

function RouteError() {
  const error = useRouteError();
  return (
    <div className="space-y-3">
      <ErrorBanner error={isRouteErrorResponse(error) ? new Error(`${error.status} ${error.statusText}`) : error} />
      <Link to="/" className="text-indigo-600 hover:underline dark:text-indigo-400">
        Back to the dashboard
      </Link>
    </div>
  );
}

function NotFound() {
  return (
    <EmptyState title="There is no page here">
      <Link to="/" className="text-indigo-600 hover:underline dark:text-indigo-400">
        Go to the dashboard
      </Link>
    </EmptyState>
  );
}
