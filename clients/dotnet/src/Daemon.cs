// Finding the daemon: the home, serve.json and serve.token (local API
// section 1), and the host-wide single-instance lock.
using System;
using System.IO;
using System.Threading;

namespace WbPay
{
    /// <summary>Where the daemon of a home listens, as serve.json and
    /// serve.token say at the time they were read.</summary>
    internal sealed class Endpoint
    {
        public string Url;   // e.g. http://127.0.0.1:8791, no trailing slash
        public int Pid;
        public string Token;

        /// <summary>Reads home's serve.json and serve.token. Throws
        /// WbPayException L0005 when serve.json is missing (the daemon is not
        /// running) and L0001 when a file is unreadable or malformed.</summary>
        public static Endpoint Read(string home)
        {
            string serveJson = Path.Combine(home, "serve.json");
            string serveToken = Path.Combine(home, "serve.token");
            string text;
            try
            {
                text = File.ReadAllText(serveJson);
            }
            catch (FileNotFoundException)
            {
                throw Errors.NotRunning("no " + serveJson + ": the wbpay daemon is not running (start `wbpay-engine serve` or its service)", null);
            }
            catch (DirectoryNotFoundException e)
            {
                throw Errors.Config("home " + home + " does not exist", e);
            }
            catch (Exception e)
            {
                throw Errors.Config("cannot read " + serveJson + ": " + e.Message, e);
            }
            object doc;
            try
            {
                doc = Json.Parse(text);
            }
            catch (FormatException e)
            {
                // A daemon writes it atomically; a torn file is somebody else's.
                throw Errors.Config(serveJson + " is not JSON (" + e.Message + ")", e);
            }
            var ep = new Endpoint();
            ep.Url = (Json.Str(doc, "url") ?? "").TrimEnd('/');
            ep.Pid = (int)Json.Num(doc, "pid");
            Uri u;
            if (!Uri.TryCreate(ep.Url, UriKind.Absolute, out u) || (u.Scheme != "http" && u.Scheme != "https"))
                throw Errors.Config(serveJson + ": field url " + (ep.Url.Length == 0 ? "is missing" : "is not an http URL"), null);
            try
            {
                ep.Token = File.ReadAllText(serveToken).Trim();
            }
            catch (Exception e)
            {
                throw Errors.Config("cannot read " + serveToken + ": " + e.Message, e);
            }
            if (ep.Token.Length == 0) throw Errors.Config(serveToken + " is empty", null);
            return ep;
        }
    }

    /// <summary>The host-wide lock that lets one WbCPSPay instance be open at
    /// a time (library spec 3.1): a named semaphore on Windows and an exclusive lock
    /// on a file in the home everywhere (the one the Java client takes); both beside an in-process flag, since
    /// POSIX record locks are per process.</summary>
    internal sealed class InstanceLock
    {
        private static readonly object gate = new object();
        private static bool heldInProcess;

        public const string MutexName = @"Global\WbPay.WbCPSPay";
        public const string FileName = "WbCPSPay.client.lock";

        private Semaphore mutex;
        private FileStream file;

        /// <summary>Takes the lock or throws WbPayException L0006.</summary>
        public static InstanceLock Acquire(string home)
        {
            lock (gate)
            {
                if (heldInProcess)
                    throw Errors.InUse("another WbCPSPay instance is open in this process: Close it first");
                var l = new InstanceLock();
                if (Environment.OSVersion.Platform == PlatformID.Win32NT)
                {
                    // A named semaphore of one, not a Mutex: Close may run on
                    // another thread than the constructor, and a mutex only
                    // its owner thread can release. The kernel drops it with
                    // the last handle, so a crashed POS does not keep it.
                    bool created;
                    try
                    {
                        l.mutex = new Semaphore(1, 1, MutexName, out created);
                    }
                    catch (UnauthorizedAccessException)
                    {
                        // It exists and belongs to another user's session.
                        throw Errors.InUse("another WbCPSPay instance is open on this host (semaphore " + MutexName + ", another user)");
                    }
                    if (!l.mutex.WaitOne(0))
                    {
                        l.mutex.Dispose();
                        l.mutex = null;
                        throw Errors.InUse("another WbCPSPay instance is open on this host (semaphore " + MutexName + ")");
                    }
                }
                // The lock file too, everywhere: it is what the Java client
                // takes, so the two exclude each other as well.
                string path = Path.Combine(home, FileName);
                try
                {
                    l.file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
                    l.file.Lock(0, 1);
                }
                catch (Exception e)
                {
                    if (l.file != null) l.file.Dispose();
                    l.file = null;
                    l.ReleaseMutex();
                    if (e is IOException)
                        throw Errors.InUse("another WbCPSPay instance is open on this host (" + path + " is locked: " + e.Message + ")");
                    if (e is UnauthorizedAccessException)
                        throw Errors.Config("cannot create " + path + ": " + e.Message, e);
                    throw;
                }
                heldInProcess = true;
                return l;
            }
        }

        private void ReleaseMutex()
        {
            if (mutex == null) return;
            try { mutex.Release(); } catch (SemaphoreFullException) { }
            mutex.Dispose();
            mutex = null;
        }

        /// <summary>Releases the lock; safe to call twice.</summary>
        public void Release()
        {
            lock (gate)
            {
                if (mutex == null && file == null) return;
                ReleaseMutex();
                if (file != null)
                {
                    try { file.Unlock(0, 1); } catch (IOException) { }
                    file.Dispose();
                    file = null;
                }
                heldInProcess = false;
            }
        }
    }

    /// <summary>The exceptions of the catalog (wire contract section 8) this
    /// assembly raises itself.</summary>
    internal static class Errors
    {
        public static WbPayException Config(string msg, Exception inner)
        {
            return new WbPayException(5, "L0001", "", msg, WbCPSAction.VendorCall, inner);
        }

        public static WbPayException Field(string field, string msg)
        {
            return new WbPayException(5, "L0003", "", field + ": " + msg, WbCPSAction.VendorCall, null);
        }

        public static WbPayException Closed(string msg)
        {
            return new WbPayException(5, "L0005", "", msg, WbCPSAction.VendorCall, null);
        }

        public static WbPayException NotRunning(string msg, Exception inner)
        {
            return new WbPayException(5, "L0005", "", msg, WbCPSAction.VendorCall, inner);
        }

        public static WbPayException InUse(string msg)
        {
            return new WbPayException(5, "L0006", "", msg, WbCPSAction.VendorCall, null);
        }
    }
}
